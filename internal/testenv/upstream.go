package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// UpstreamCLIEnv names the upstream convox CLI binary when it is not at its usual place.
const UpstreamCLIEnv = "CONVOX_UPSTREAM_CLI"

// UpstreamCLI is the unmodified upstream convox CLI: $CONVOX_UPSTREAM_CLI, else
// shared/upstream-convox/convox beside the checkout or one of its parents (a
// worktree sits one level deeper). Missing, it fails the test under CI=true
// and skips it elsewhere.
func UpstreamCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(UpstreamCLIEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			Missing(t, "the upstream convox CLI at $%s=%s: %v", UpstreamCLIEnv, p, err)
		}
		return p
	}
	dir := RepoRoot()
	for range 3 {
		dir = filepath.Dir(dir)
		p := filepath.Join(dir, "shared", "upstream-convox", "convox")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	Missing(t, "the upstream convox CLI (../shared/upstream-convox/convox, or set $%s)", UpstreamCLIEnv)
	return ""
}

// Upstream runs the upstream convox CLI with its own home (its settings, e.g.
// what `convox login` writes, stay in the test) and the rack it is given.
type Upstream struct {
	Bin  string
	Home string
	// Env is added to every run, e.g. RACK_URL.
	Env []string
}

// NewUpstream is the upstream CLI with a fresh home directory.
func NewUpstream(t testing.TB) *Upstream {
	t.Helper()
	return &Upstream{Bin: UpstreamCLI(t), Home: t.TempDir()}
}

// Result is what one CLI run printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// Run runs the CLI with args in dir ("" for the home directory), bounded by limit.
func (u *Upstream) Run(t testing.TB, dir string, limit time.Duration, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.Bin, args...)
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = u.Home
	}
	// Only what the CLI needs: no credentials or rack settings of the machine leak in.
	cmd.Env = append([]string{"HOME=" + u.Home, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}, u.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		require.NoError(t, err, "running convox %s", strings.Join(args, " "))
	}
	require.NoError(t, ctx.Err(), "convox %s did not end within %s:\n%s\n%s", strings.Join(args, " "), limit, r.Stdout, r.Stderr)
	return r
}

// TLSFront serves target (an http:// URL) over TLS on a loopback port with a
// generated certificate, as a rack's load balancer or TLS listener does, and
// returns its host:port: `convox login HOST` always speaks https. target may
// itself be https (an API with its own certificate).
func TLSFront(t testing.TB, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	u.User = nil
	proxy := httputil.NewSingleHostReverseProxy(u)
	// A rack API that serves TLS itself does so with a certificate it generated.
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the rack's own certificate
	ts := httptest.NewTLSServer(proxy)
	t.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "https://")
}
