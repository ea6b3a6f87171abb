package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/convox/rack/internal/fargatetest"
	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/require"
)

// harness is a registry with base images, an in-memory rack and an app.
type harness struct {
	t     *testing.T
	reg   *testenv.Registry
	rack  *memrack.Rack
	app   string
	push  string
	cache string
	n     atomic.Int32
	// fargate runs fargate builds in the strict runner, made on first use.
	fargate *fargatetest.Runner
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test on real BuildKit, registry and engines")
	}
	reg := testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, reg)
	return &harness{t: t, reg: reg, rack: memrack.New(), app: "myapp",
		push: reg.Host + "/myapp", cache: reg.Host + "/rack-build-cache"}
}

// upload stores the example app (or dir) as a source object and returns its url.
func (h *harness) upload(dir string) string {
	h.t.Helper()
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(testenv.RepoRoot(), dir)
	}
	var buf bytes.Buffer
	require.NoError(h.t, tarball.Create(dir, &buf, nil))
	key := fmt.Sprintf("tmp/source-%d.tgz", h.n.Add(1))
	obj, err := h.rack.ObjectStore(h.app, key, &buf, structs.ObjectStoreOptions{})
	require.NoError(h.t, err)
	return obj.Url
}

// opts are build options for the next build of the app from url; the build
// runs its engine even when an earlier one had the same inputs (NoReuse), as
// these tests measure the engines (reuse_test.go turns it off).
func (h *harness) opts(url string) Options {
	id := fmt.Sprintf("B%d", h.n.Add(1))
	h.rack.AddBuild(h.app, id)
	return Options{Spec: buildtask.Spec{App: h.app, ID: id, URL: url, Push: h.push, Auth: h.reg.AuthJSON(),
		Method: buildtask.EC2, Cache: true, CacheRepo: h.cache, CacheTTL: "30"}, NoReuse: true}
}

// run builds and returns the log and the build record; failures are fatal unless wantErr.
func (h *harness) run(opts Options, wantErr bool) (string, *structs.Build) {
	h.t.Helper()
	var logs bytes.Buffer
	var err error
	if opts.Method == buildtask.Fargate {
		// cmd/build in a fresh runc container, as on Fargate
		if h.fargate == nil {
			h.fargate = fargatetest.New(h.t, h.rack)
		}
		opts.Spec.Mirror = h.reg.Host
		err = h.fargate.Run(context.Background(), opts.Spec, &logs)
		require.Contains(h.t, logs.String(), "in a fresh runc container")
	} else {
		err = Run(context.Background(), h.rack, opts, &logs)
	}
	b, gerr := h.rack.BuildGet(opts.App, opts.ID)
	require.NoError(h.t, gerr)
	if wantErr {
		require.Error(h.t, err, "build %s succeeded, want an error\n%s", opts.ID, logs.String())
	} else {
		require.NoError(h.t, err, "build %s\n%s", opts.ID, logs.String())
	}
	return logs.String(), b
}

// summary returns the service's cache summary from the build record.
func summary(t *testing.T, b *structs.Build, service string) structs.BuildServiceSummary {
	t.Helper()
	require.NotEmpty(t, b.Cache, "build %s has no cache summary", b.Id)
	for _, s := range b.Cache {
		if s.Service == service {
			return s
		}
	}
	require.Failf(t, "no cache summary", "build %s has no summary for %s: %+v", b.Id, service, b.Cache)
	return structs.BuildServiceSummary{}
}

// digest is the manifest digest of ref, "" when the registry answers 404 for
// it; any other failed lookup fails the test rather than reading as absent.
func (h *harness) digest(ref string) string {
	h.t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(h.t, err)
	desc, err := remote.Head(r, remote.WithAuth(h.reg.Auth()))
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return ""
	}
	require.NoError(h.t, err, "looking up %s", ref)
	return desc.Digest.String()
}

// tags lists a repository's tags (none when the registry answers 404 for
// it); any other failed lookup fails the test rather than reading as none.
func (h *harness) tags(repo string) []string {
	h.t.Helper()
	r, err := name.NewRepository(repo, name.Insecure)
	require.NoError(h.t, err)
	tags, err := remote.List(r, remote.WithAuth(h.reg.Auth()))
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil
	}
	require.NoError(h.t, err, "listing tags of %s", repo)
	return tags
}

// manifests maps each tag of repo to its manifest digest.
func (h *harness) manifests(repo string) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, tag := range h.tags(repo) {
		out[tag] = h.digest(repo + ":" + tag)
	}
	return out
}

// withBuildx is an engine config whose DOCKER_CONFIG has the buildx plugin.
func withBuildx(t *testing.T) string {
	testenv.Tool(t, "docker")
	return testenv.DockerConfigWithBuildx(t)
}

// removeBuilder removes a buildx builder this test created, with its state.
func removeBuilder(t *testing.T, dockerConfig, builder string) {
	cmd := exec.Command("docker", "buildx", "rm", "--force", builder)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "no builder") {
		t.Logf("docker buildx rm %s: %v: %s", builder, err, out)
	}
}

// builderName finds the builder a build log says it created or used.
func builderName(log string) string {
	for _, line := range strings.Split(log, "\n") {
		for _, p := range []string{"Creating buildx builder ", "Using buildx builder "} {
			if rest, ok := strings.CutPrefix(line, p); ok {
				return strings.Fields(rest)[0]
			}
		}
	}
	return ""
}
