package build

import (
	"bytes"
	"strings"
	"testing"

	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEC2FreshBuilderRebuildIsCached: build, throw the builder away (a fresh
// BuildKit root), build again with no change: every step is CACHED from the
// registry; then --no-cache runs every step again and refreshes the cache ref.
func TestEC2FreshBuilderRebuildIsCached(t *testing.T) {
	h := newHarness(t)
	url := h.upload("examples/cached-deps")
	cfg := withBuildx(t)
	ref := h.cache + ":" + cachepolicy.AppTag(h.app, "web")

	build := func(noCache bool) (string, Options, float64, int, int) {
		bk := testenv.StartBuildKit(t, h.reg)
		defer bk.Stop()
		opts := h.opts(url)
		opts.NoCache = noCache
		opts.BuildArgs = []string{"DEPS_WORK_MB=50", "UNDECLARED=1"}
		opts.Engine.DockerConfig = cfg
		opts.Engine.BuildKitHost = bk.Addr
		log, b := h.run(opts, false)
		require.Equal(t, "complete", b.Status, "build %s", b.Id)
		require.NotEmpty(t, b.Release, "build %s has no release", b.Id)
		s := summary(t, b, "web")
		t.Logf("build %s no-cache=%v: %d steps, %d cached, %.1fs", b.Id, noCache, s.Steps, s.Cached, s.Seconds)
		return log, opts, s.Seconds, s.Steps, s.Cached
	}

	_, first, _, steps, cached := build(false)
	assert.Equal(t, 5, steps, "cold build steps")
	assert.Zero(t, cached, "cold build cached steps")
	require.NotEmpty(t, h.digest(h.push+":web."+first.ID), "image %s:web.%s not in the app repo", h.push, first.ID)
	warm := h.digest(ref)
	require.NotEmpty(t, warm, "cache ref %s missing after the first build", ref)

	log, second, _, steps, cached := build(false)
	assert.Equal(t, 5, steps, "fresh builder rebuild steps\n%s", log)
	assert.Equal(t, steps, cached, "fresh builder rebuild: %d of %d steps cached, want all\n%s", cached, steps, log)
	assert.Contains(t, log, "importing cache manifest from "+ref, "rebuild log does not import %s", ref)
	assert.NotEmpty(t, h.digest(h.push+":web."+second.ID), "image of the rebuild not in the app repo")
	assert.Contains(t, h.rack.Object(h.app, "build/"+second.ID+"/logs"), "Service web: 5 steps, 5 cached", "stored logs lack the summary line")

	log, _, _, steps, cached = build(true)
	assert.Zero(t, cached, "--no-cache: %d of %d steps cached, want none\n%s", cached, steps, log)
	assert.Equal(t, 5, steps, "--no-cache steps\n%s", log)
	assert.NotContains(t, log, "importing cache manifest", "--no-cache still imported the cache")
	after := h.digest(ref)
	assert.NotEmpty(t, after, "--no-cache removed %s", ref)
	assert.NotEqual(t, warm, after, "--no-cache did not refresh %s", ref)
}

// TestEC2MultiServiceOwnCacheRefs: each service has its own cache ref, shared
// builds run once, and every service hits its ref on a fresh builder.
func TestEC2MultiServiceOwnCacheRefs(t *testing.T) {
	h := newHarness(t)
	url := h.upload("examples/multi")
	cfg := withBuildx(t)
	var logs []string
	var ids []string
	for i := 0; i < 2; i++ {
		bk := testenv.StartBuildKit(t, h.reg)
		opts := h.opts(url)
		opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
		opts.Engine.DockerConfig = cfg
		opts.Engine.BuildKitHost = bk.Addr
		log, b := h.run(opts, false)
		bk.Stop()
		logs = append(logs, log)
		ids = append(ids, b.Id)
		for _, s := range []string{"web", "worker", "scheduler"} {
			sum := summary(t, b, s)
			t.Logf("build %d %s: %d steps, %d cached, %.1fs", i, s, sum.Steps, sum.Cached, sum.Seconds)
			if i == 1 {
				assert.Equal(t, 5, sum.Steps, "rebuild of %s: steps", s)
				assert.Equal(t, sum.Steps, sum.Cached, "rebuild of %s: %d of %d cached, want all", s, sum.Cached, sum.Steps)
			}
		}
	}
	assert.Equal(t, 1, strings.Count(logs[0], "Building "), "builds for web+worker+scheduler, want 1 (they share it)\n%s", logs[0])
	for _, s := range []string{"web", "worker", "scheduler"} {
		assert.NotEmpty(t, h.digest(h.cache+":"+cachepolicy.AppTag(h.app, s)), "no cache ref for %s", s)
	}
	for _, s := range []string{"web", "worker", "scheduler", "cache"} {
		assert.NotEmpty(t, h.digest(h.push+":"+s+"."+ids[1]), "no image for %s", s)
	}
	assert.Empty(t, h.digest(h.cache+":"+cachepolicy.AppTag(h.app, "cache")), "image-only service wrote a cache ref")
}

// TestGen1NeverTouchesCache: a docker-compose.yml app builds with BuildCache
// on, says why the cache is not used, and writes nothing to the cache repo.
func TestGen1NeverTouchesCache(t *testing.T) {
	h := newHarness(t)
	bk := testenv.StartBuildKit(t, h.reg)
	opts := h.opts(h.upload("examples/gen1"))
	opts.Generation = 1
	opts.Engine.DockerConfig = withBuildx(t)
	opts.Engine.BuildKitHost = bk.Addr
	log, b := h.run(opts, false)
	assert.Contains(t, log, "generation 1 apps do not use the persistent build cache", "no line saying why")
	assert.NotContains(t, log, "rack-build-cache", "gen1 build mentions the cache repo")
	assert.Empty(t, h.tags(h.cache), "cache repo has tags")
	assert.NotEmpty(t, h.digest(h.push+":web."+b.Id), "gen1 image not pushed")
}

// TestMaliciousSourceRefused: a traversal tarball fails the build with a clear reason.
func TestMaliciousSourceRefused(t *testing.T) {
	rack := memrack.New()
	rack.AddBuild("app", "B1")
	_, err := rack.ObjectStore("app", "tmp/evil.tgz", bytes.NewReader(evilTarball(t)), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	err = Run(t.Context(), rack, Options{Spec: buildtask.Spec{App: "app", ID: "B1", URL: "object://app/tmp/evil.tgz", Push: "127.0.0.1:1/app"}}, nil)
	require.Error(t, err, "a traversal tarball built")
	b, gerr := rack.BuildGet("app", "B1")
	require.NoError(t, gerr)
	require.Equal(t, "failed", b.Status, "reason %q", b.Reason)
	require.Contains(t, b.Reason, "path traversal")
	assert.Contains(t, rack.Object("app", "build/B1/logs"), "path traversal", "failure not in the stored logs")
}
