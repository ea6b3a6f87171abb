package cli_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/cli"
	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rackPassword = "cli-test-password"

// testRack is a real API server on loopback over an in-memory rack.
type testRack struct {
	p        *apitest.Provider
	url      string // with the password
	requests atomic.Int64
}

// newRack starts a rack with the catalogue defaults and the given apps.
func newRack(t *testing.T, apps ...string) *testRack {
	t.Helper()
	r := &testRack{p: apitest.New("rack1", params.Defaults())}
	for _, a := range apps {
		_, err := r.p.AppCreate(a, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	h := api.New(r.p, rackPassword, api.WithLog(io.Discard))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	r.url = strings.Replace(ts.URL, "http://", "http://convox:"+rackPassword+"@", 1)
	return r
}

type result struct {
	code           int
	stdout, stderr string
}

// convox runs the command line in process with stdin as its input.
func convox(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return convoxTo(t, &bytes.Buffer{}, stdin, args...)
}

// convoxTo runs the command line with stdout going to out.
func convoxTo(t *testing.T, out io.Writer, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var errb bytes.Buffer
	e := cli.New("test")
	e.Writer.Stdout, e.Writer.Stderr, e.Writer.Color = out, &errb, false
	e.Reader = &stdcli.Reader{Reader: stdin}
	e.Settings = t.TempDir()
	code := e.Execute(args)
	res := result{code: code, stderr: errb.String()}
	if b, ok := out.(*bytes.Buffer); ok {
		res.stdout = b.String()
	}
	return res
}

// sourceDir writes files (name -> content) into a fresh directory.
func sourceDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		assert.Contains(t, got, w, "%s does not contain %q:\n%s", what, w, got)
	}
}
