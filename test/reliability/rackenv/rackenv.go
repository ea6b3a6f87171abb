// Package rackenv runs a real local rack (provider/local behind pkg/api) on
// loopback for the suite's tests, with its server log captured so tests can
// look for leaked secrets in it.
package rackenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/baseimages"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
	"github.com/convox/rack/provider/local"

	"github.com/stretchr/testify/require"
)

// Rack is a running local rack and a client of its API.
type Rack struct {
	*local.Provider
	// Client talks to the rack over HTTP, as the CLI does.
	Client *sdk.Client
	// URL is the API with the password in it; Addr its host:port.
	URL, Addr, Password string
	// Dir is the rack's data directory.
	Dir string
	log *testenv.SyncBuffer
}

// Options tune the rack; the zero value is a rack that builds on a BuildKit
// daemon it supervises.
type Options struct {
	// Engine builds through the Docker engine with its BuildKit and runner images.
	Engine bool
	// BuildBinary replaces the build task binary the rack runs for ec2
	// builds, e.g. with a wrapper that runs the task in an image.
	BuildBinary string
	// MaxUpload bounds uploads and imports (default the API's).
	MaxUpload int64
	// NoBuilds skips the build tools, for tests of the API alone.
	NoBuilds bool
}

// Start starts a rack for one test and stops it when the test ends.
func Start(t testing.TB, o Options) *Rack {
	t.Helper()
	dir := t.TempDir()
	r := &Rack{Password: "rack-" + hexOf(t), Dir: dir, log: &testenv.SyncBuffer{}}
	opts := local.Options{Name: "rack1", Dir: dir, Password: r.Password, JanitorInterval: -1}
	if !o.NoBuilds {
		testenv.Tool(t, "buildkitd")
		testenv.Tool(t, "runc")
		testenv.Tool(t, "docker-buildx")
		if os.Geteuid() != 0 {
			testenv.Missing(t, "root privileges for buildkitd and runc")
		}
		opts.Tools = filepath.Join(testenv.ToolsDir(), "bin")
		opts.BuildBinary = testenv.BuildBinary(t)
		if o.BuildBinary != "" {
			opts.BuildBinary = o.BuildBinary
		}
		opts.BaseImages = &baseimages.Sources{Busybox: testenv.BusyboxPath(t), DebianRootfs: testenv.DebianRootfsTar(t)}
		if o.Engine {
			opts.Docker = testenv.RequireDockerEngine(t)
			opts.BuildKitImage = testenv.BuildKitImage(t)
		}
	}
	p, err := local.New(opts)
	require.NoError(t, err, "starting the local rack")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.Close()
		require.NoError(t, err)
	}
	apiOpts := []api.Option{api.WithLog(r.log)}
	if o.MaxUpload > 0 {
		apiOpts = append(apiOpts, api.WithMaxUpload(o.MaxUpload))
	}
	srv := &http.Server{Handler: api.New(p, r.Password, apiOpts...), ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(l)
	r.Addr = l.Addr().String()
	r.URL = "http://convox:" + r.Password + "@" + r.Addr
	p.SetURL(r.URL)
	r.Provider = p
	t.Cleanup(func() {
		srv.Close()
		p.Close()
	})
	if r.Client, err = sdk.New(r.URL); err != nil {
		require.NoError(t, err)
	}
	return r
}

// Log is what the API server has logged so far.
func (r *Rack) Log() string { return r.log.String() }

// RegistryPassword is the embedded registry's password.
func (r *Rack) RegistryPassword(t testing.TB) string {
	t.Helper()
	cfg, err := r.RegistryAuth().Authorization()
	require.NoError(t, err, "registry login: %v", err)
	require.NotEmpty(t, cfg.Password, "registry login: %v", err)
	return cfg.Password
}

// Upload stores dir as a source tarball of app and returns its object url.
func (r *Rack) Upload(t testing.TB, app, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tarball.Create(dir, &buf, nil))
	o, err := r.Client.ObjectStore(app, fmt.Sprintf("tmp/src-%s.tgz", hexOf(t)), &buf, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	return o.Url
}

// Wait waits for a build to end and returns it with its logs.
func (r *Rack) Wait(t testing.TB, app, id string, limit time.Duration) (*structs.Build, string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, err := r.Client.BuildGet(app, id)
		require.NoError(t, err)
		if b.Terminal() {
			return b, r.Logs(t, app, id)
		}
		require.False(t, time.Now().After(deadline), "build %s still %s after %s:\n%s", id, b.Status, limit, r.Logs(t, app, id))
		time.Sleep(250 * time.Millisecond)
	}
}

// Logs reads a build's stored logs through the API.
func (r *Rack) Logs(t testing.TB, app, id string) string {
	t.Helper()
	rc, err := r.Client.BuildLogs(app, id, structs.LogsOptions{})
	require.NoError(t, err, "build logs of %s", id)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Logf("reading logs of %s: %v", id, err)
	}
	return string(data)
}

// App writes an app's files (name -> content) into a fresh directory.
func App(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

// SmallApp is a one-service convox.yml app FROM busybox whose image holds token.
func SmallApp(t testing.TB, token string) string {
	return App(t, map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n    port: 3000\n",
		"Dockerfile": "FROM busybox:latest\nWORKDIR /app\nRUN echo built > built.txt\nCOPY token.txt .\n" +
			"RUN sha256sum token.txt > token.sum\nCMD [\"cat\", \"/app/token.sum\"]\n",
		"token.txt": token + "\n",
	})
}

// Contains reports which of the secrets occur in s (by name).
func Contains(s string, secrets map[string]string) []string {
	var found []string
	for name, v := range secrets {
		if v != "" && strings.Contains(s, v) {
			found = append(found, name)
		}
	}
	return found
}

func hexOf(t testing.TB) string {
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
