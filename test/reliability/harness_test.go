// Package reliability holds the integration tests that a cache is only an
// optimisation: registry faults, concurrency and crashes never cost a build,
// an image or a record.
package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/fargatetest"
	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	app       = "myapp"
	cacheName = "rack-build-cache"
)

// world is one registry with base images, a fault proxy in front of it, an
// in-memory rack and the engine of one build method.
type world struct {
	t       *testing.T
	method  string
	reg     *testenv.Registry
	proxy   *faultproxy.Proxy
	rack    *memrack.Rack
	n       *atomic.Int32       // build ids
	cfg     string              // DOCKER_CONFIG with buildx (ec2)
	fargate *fargatetest.Runner // the strict fargate runner
	// push and cache are the app and cache repositories the builds use.
	push, cache string
}

// newWorld starts the parts a build of method needs. The cache repository
// goes through the proxy; the app repository straight to the registry
// unless appThroughProxy.
func newWorld(t *testing.T, method string, appThroughProxy bool) *world {
	t.Helper()
	w := &world{t: t, method: method, rack: memrack.New(), n: &atomic.Int32{}}
	switch method {
	case "ec2":
		testenv.Tool(t, "docker")
		w.cfg = testenv.DockerConfigWithBuildx(t)
	case "fargate":
		w.fargate = fargatetest.New(t, w.rack)
	}
	w.reg = testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, w.reg)
	w.proxy = faultproxy.New(t, w.reg.Host)
	w.push = w.reg.Host + "/" + app
	if appThroughProxy {
		w.push = w.proxy.Host() + "/" + app
	}
	w.cache = w.proxy.Host() + "/" + cacheName
	return w
}

// source uploads a small app whose image holds token, returning its url.
func (w *world) source(token string) string {
	// the first RUN is the same in every build (a cache read after the
	// first), the second new with each token (a cache write)
	return w.sourceWith(token, "FROM busybox:latest\nWORKDIR /app\nRUN echo built > built.txt\nCOPY token.txt .\n"+
		"RUN sha256sum token.txt > token.sum\nCMD [\"cat\", \"/app/token.sum\"]\n")
}

// sourceWith uploads the app with its own Dockerfile, which must leave
// token.txt and built.txt in /app of the image.
func (w *world) sourceWith(token, dockerfile string) string {
	w.t.Helper()
	dir := w.t.TempDir()
	files := map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n    port: 3000\n",
		"Dockerfile": dockerfile,
		"token.txt":  token + "\n",
	}
	for n, content := range files {
		require.NoError(w.t, os.WriteFile(filepath.Join(dir, n), []byte(content), 0o644))
	}
	var buf bytes.Buffer
	require.NoError(w.t, tarball.Create(dir, &buf, nil))
	obj, err := w.rack.ObjectStore(app, "tmp/source-"+token+".tgz", &buf, structs.ObjectStoreOptions{})
	require.NoError(w.t, err)
	return obj.Url
}

// opts are the options of a new build of url.
func (w *world) opts(url string) build.Options {
	o := build.Options{Spec: buildtask.Spec{App: app, ID: w.addBuild(), URL: url, Push: w.push, Method: buildtask.Method(w.method),
		Cache: true, CacheRepo: w.cache, CacheTTL: "30", Auth: w.auth()},
		NoReuse: true} // the cache under faults is what is tested: the engine always runs
	o.Engine.Mirror = w.reg.Host
	if w.method == "fargate" {
		o.Spec.Mirror = w.reg.Host // the task's BUILD_REGISTRY_MIRROR
	} else {
		o.Engine.DockerConfig = w.cfg
	}
	return o
}

// addBuild records a new build of the app and returns its id.
func (w *world) addBuild() string {
	id := fmt.Sprintf("B%03d", w.n.Add(1))
	w.rack.AddBuild(app, id)
	return id
}

// auth is BUILD_AUTH for the registry under both of its names.
func (w *world) auth() string {
	return fmt.Sprintf(`{%q:{"username":%q,"password":%q},%q:{"username":%q,"password":%q}}`,
		w.reg.Host, w.reg.Username, w.reg.Password, w.proxy.Host(), w.reg.Username, w.reg.Password)
}

// run builds with a fresh BuildKit root (ec2) so only the registry cache can
// supply cached steps; it returns the log, the record and Run's error.
func (w *world) run(o build.Options, limit time.Duration) (string, *structs.Build, error) {
	w.t.Helper()
	if w.method == "ec2" {
		bk := testenv.StartBuildKit(w.t, w.reg)
		defer bk.Stop()
		o.Engine.BuildKitHost = bk.Addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var logs bytes.Buffer
	start := time.Now()
	var err error
	if w.method == "fargate" {
		// NoReuse stays in this process: so that the engine runs in the task
		// too, no earlier build offers its inputs for reuse
		earlier, lerr := w.rack.BuildList(app, structs.BuildListOptions{})
		require.NoError(w.t, lerr)
		none := ""
		for _, e := range earlier {
			_, uerr := w.rack.BuildUpdate(app, e.Id, structs.BuildUpdateOptions{Inputs: &none})
			require.NoError(w.t, uerr)
		}
		// cmd/build in a fresh runc container, as on Fargate
		err = w.fargate.Run(ctx, o.Spec, &logs)
		assert.Contains(w.t, logs.String(), "in a fresh runc container", "build %s did not run in the strict fargate runner", o.ID)
		if strings.Contains(logs.String(), "again without the persistent cache") {
			// the failed run left its filesystem: the retry must start clean
			assert.Contains(w.t, logs.String(), "Cleaning the filesystem the previous kaniko run left", "build %s retried on a used filesystem", o.ID)
			w.t.Logf("build %s retried without the cache after a wipe", o.ID)
		}
	} else {
		err = build.Run(ctx, w.rack, o, &logs)
	}
	w.t.Logf("build %s (%s): %s, err=%v", o.ID, w.method, time.Since(start).Round(time.Second), err)
	assert.NoError(w.t, ctx.Err(), "build %s still running after %s: a cache fault must not hang a build\n%s", o.ID, limit, tail(logs.String()))
	b, gerr := w.rack.BuildGet(app, o.ID)
	require.NoError(w.t, gerr)
	return logs.String(), b, err
}

// mustBuild builds and fails the test unless the build completes.
func (w *world) mustBuild(o build.Options) (string, *structs.Build) {
	w.t.Helper()
	log, b, err := w.run(o, 5*time.Minute)
	require.NoError(w.t, err, "build %s: err=%v status=%q reason=%q\n%s", o.ID, err, b.Status, b.Reason, tail(log))
	require.Equal(w.t, structs.BuildStatusComplete, b.Status, "build %s: err=%v status=%q reason=%q\n%s", o.ID, err, b.Status, b.Reason, tail(log))
	return log, b
}

// imageFile reads path out of the image at ref, straight from the registry.
func (w *world) imageFile(ref, path string) (string, error) {
	return testenv.ImageFile(ref, path, w.reg.Auth())
}

// checkImage verifies the build's image in the app repository holds token.
func (w *world) checkImage(id, token string) {
	w.t.Helper()
	ref := w.reg.Host + "/" + app + ":web." + id
	got, err := w.imageFile(ref, "app/token.txt")
	if assert.NoError(w.t, err, "image %s: token.txt = %q, %v; want %q", ref, got, err, token) {
		assert.Equal(w.t, token+"\n", got, "image %s: token.txt = %q, %v; want %q", ref, got, err, token)
	}
	built, err := w.imageFile(ref, "app/built.txt")
	if assert.NoError(w.t, err, "image %s: the RUN step's file: %q, %v", ref, built, err) {
		assert.EqualValues(w.t, "built\n", built, "image %s: the RUN step's file: %q, %v", ref, built, err)
	}
}

// cacheImages are the manifests in the cache repository, read and verified
// (every blob fetched) straight from the registry.
func (w *world) cacheImages() (map[string]v1.Hash, error) {
	repo, err := name.NewRepository(w.reg.Host+"/"+cacheName, name.Insecure)
	if err != nil {
		return nil, err
	}
	return repoImages(repo, w.reg.Auth())
}

// repoImages are the manifests of every tag of repo, each read and verified
// (every blob fetched); an empty repository is an error.
func repoImages(repo name.Repository, auth authn.Authenticator) (map[string]v1.Hash, error) {
	tags, err := remote.List(repo, remote.WithAuth(auth))
	if err != nil {
		return nil, fmt.Errorf("listing the cache repository: %w", err)
	}
	out := map[string]v1.Hash{}
	for _, tag := range tags {
		img, err := remote.Image(repo.Tag(tag), remote.WithAuth(auth))
		if err != nil {
			return nil, fmt.Errorf("cache %s: %w", tag, err)
		}
		if err := testenv.ReadLayers(img); err != nil {
			return nil, fmt.Errorf("cache %s: %w", tag, err)
		}
		d, _ := img.Digest()
		out[tag] = d
	}
	if len(out) == 0 {
		return nil, errors.New("the cache repository is empty")
	}
	return out, nil
}

func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}

// warnings are the log's WARNING lines.
func warnings(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "WARNING") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}
