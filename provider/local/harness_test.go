package local

import (
	"bytes"
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
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/require"
)

// liveRack is a local rack with its API served on loopback, as cmd/rack runs it.
type liveRack struct {
	*Provider
	url string
}

// startLive starts a rack that builds for real: the pinned tools, the static
// build binary, seeded base images and the API the build task calls back.
func startLive(t *testing.T, dir string, opts Options) *liveRack {
	t.Helper()
	testenv.Tool(t, "buildkitd")
	testenv.Tool(t, "runc")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root privileges for buildkitd and runc")
	}
	opts.Name = "rack1"
	opts.Dir = dir
	opts.Password = "live-pw"
	opts.JanitorInterval = -1
	opts.Tools = filepath.Join(testenv.ToolsDir(), "bin")
	opts.BuildBinary = testenv.BuildBinary(t)
	opts.BaseImages = &baseimages.Sources{Busybox: testenv.BusyboxPath(t), DebianRootfs: testenv.DebianRootfsTar(t)}
	p, err := New(opts)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: api.New(p, opts.Password, api.WithLog(io.Discard))}
	go srv.Serve(l)
	url := "http://convox:" + opts.Password + "@" + l.Addr().String()
	p.SetURL(url)
	t.Cleanup(func() {
		srv.Close()
		p.Close()
	})
	return &liveRack{Provider: p, url: url}
}

// upload stores an example app's source as an object and returns its URL.
func (r *liveRack) upload(t *testing.T, app, example string) string {
	t.Helper()
	return r.uploadDir(t, app, filepath.Join(testenv.RepoRoot(), "examples", example))
}

// uploadDir stores the app at dir as a source object and returns its url.
func (r *liveRack) uploadDir(t *testing.T, app, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tarball.Create(dir, &buf, nil))
	o, err := r.ObjectStore(app, fmt.Sprintf("tmp/%s-%d.tgz", filepath.Base(dir), time.Now().UnixNano()), &buf, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	return o.Url
}

// build runs one build to its end and returns it with its logs.
func (r *liveRack) build(t *testing.T, app, url string, opts structs.BuildCreateOptions) (*structs.Build, string) {
	t.Helper()
	b, err := r.BuildCreate(app, url, opts)
	require.NoError(t, err)
	follow := true
	rc, err := r.BuildLogs(app, b.Id, structs.LogsOptions{Follow: &follow})
	require.NoError(t, err)
	done := make(chan []byte)
	go func() { data, _ := io.ReadAll(rc); done <- data }()
	var logs []byte
	select {
	case logs = <-done:
	case <-time.After(10 * time.Minute):
		rc.Close()
		require.Fail(t, fmt.Sprintf("build %s did not end within 10 minutes", b.Id))
	}
	rc.Close()
	b, err = r.BuildGet(app, b.Id)
	require.NoError(t, err)
	return b, string(logs)
}

func (r *liveRack) set(t *testing.T, kv ...string) {
	t.Helper()
	ps := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		ps[k] = v
	}
	err := r.SystemUpdate(structs.SystemUpdateOptions{Parameters: ps})
	require.NoError(t, err)
}

func smallDeps() structs.BuildCreateOptions {
	return structs.BuildCreateOptions{BuildArgs: []string{"DEPS_WORK_MB=200"}}
}

// cached sums the steps and cache hits of b's summary, which must not be empty.
func cached(t *testing.T, b *structs.Build) (steps, hits int) {
	t.Helper()
	require.NotEmpty(t, b.Cache, "build %s has no cache summary", b.Id)
	for _, s := range b.Cache {
		steps += s.Steps
		hits += s.Cached
	}
	return steps, hits
}
