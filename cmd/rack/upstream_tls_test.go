package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"
)

// upstreamCLI is the unmodified upstream convox CLI: $CONVOX_UPSTREAM_CLI, else
// shared/upstream-convox/convox beside the checkout or one of its parents.
func upstreamCLI(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CONVOX_UPSTREAM_CLI"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for range 5 {
		dir = filepath.Dir(dir)
		p := filepath.Join(dir, "shared", "upstream-convox", "convox")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	testenv.Missing(t, "the upstream convox CLI (../shared/upstream-convox/convox, or set $CONVOX_UPSTREAM_CLI)")
	return ""
}

// The upstream convox CLI talks to the API serving its generated certificate
// (upstream's client does not verify rack certificates, as upstream racks
// generate theirs too).
func TestUpstreamCLIAcceptsTheGeneratedCertificate(t *testing.T) {
	bin := upstreamCLI(t)
	p := &callbackRack{Provider: apitest.New("served", nil)}
	providers["tlsupstream"] = func(context.Context) (structs.Provider, error) { return p, nil }
	t.Cleanup(func() { delete(providers, "tlsupstream") })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() {
		errc <- serve(ctx, env(map[string]string{"RACK_PASSWORD": "pw", "PROVIDER": "tlsupstream", "PORT": "0", "RACK_TLS": "self-signed"}),
			io.Discard, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		require.Fail(t, "server stopped before listening", "%v", err)
	}
	run, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	cmd := exec.CommandContext(run, bin, "rack")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "RACK_URL=https://convox:pw@" + addr}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "convox rack over TLS: %s", out)
	assert.Contains(t, string(out), "served", "convox rack: %s", out)
	cmd = exec.CommandContext(run, bin, "rack")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "RACK_URL=http://convox:pw@" + addr}
	out, err = cmd.CombinedOutput()
	assert.Error(t, err, "convox rack in clear was answered: %s", strings.TrimSpace(string(out)))
	cancel()
	<-errc
}
