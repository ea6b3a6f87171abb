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
		if b.Status != "complete" || b.Release == "" {
			t.Fatalf("build %s: status %q release %q", b.Id, b.Status, b.Release)
		}
		s := summary(t, b, "web")
		t.Logf("build %s no-cache=%v: %d steps, %d cached, %.1fs", b.Id, noCache, s.Steps, s.Cached, s.Seconds)
		return log, opts, s.Seconds, s.Steps, s.Cached
	}

	_, first, _, steps, cached := build(false)
	if steps != 5 || cached != 0 {
		t.Errorf("cold build: %d steps, %d cached; want 5, 0", steps, cached)
	}
	if h.digest(h.push+":web."+first.ID) == "" {
		t.Fatalf("image %s:web.%s not in the app repo", h.push, first.ID)
	}
	warm := h.digest(ref)
	if warm == "" {
		t.Fatalf("cache ref %s missing after the first build", ref)
	}

	log, second, _, steps, cached := build(false)
	if steps != 5 || cached != steps {
		t.Errorf("fresh builder rebuild: %d of %d steps cached, want all\n%s", cached, steps, log)
	}
	if !strings.Contains(log, "importing cache manifest from "+ref) {
		t.Errorf("rebuild log does not import %s", ref)
	}
	if h.digest(h.push+":web."+second.ID) == "" {
		t.Errorf("image of the rebuild not in the app repo")
	}
	if !strings.Contains(h.rack.Object(h.app, "build/"+second.ID+"/logs"), "Service web: 5 steps, 5 cached") {
		t.Error("stored logs lack the summary line")
	}

	log, _, _, steps, cached = build(true)
	if cached != 0 || steps != 5 {
		t.Errorf("--no-cache: %d of %d steps cached, want none\n%s", cached, steps, log)
	}
	if strings.Contains(log, "importing cache manifest") {
		t.Error("--no-cache still imported the cache")
	}
	if after := h.digest(ref); after == "" || after == warm {
		t.Errorf("--no-cache did not refresh %s: %s -> %s", ref, warm, after)
	}
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
			if i == 1 && (sum.Cached != sum.Steps || sum.Steps != 5) {
				t.Errorf("rebuild of %s: %d of %d cached, want 5 of 5", s, sum.Cached, sum.Steps)
			}
		}
	}
	if n := strings.Count(logs[0], "Building "); n != 1 {
		t.Errorf("%d builds for web+worker+scheduler, want 1 (they share it)\n%s", n, logs[0])
	}
	for _, s := range []string{"web", "worker", "scheduler"} {
		if h.digest(h.cache+":"+cachepolicy.AppTag(h.app, s)) == "" {
			t.Errorf("no cache ref for %s", s)
		}
	}
	for _, s := range []string{"web", "worker", "scheduler", "cache"} {
		if h.digest(h.push+":"+s+"."+ids[1]) == "" {
			t.Errorf("no image for %s", s)
		}
	}
	if h.digest(h.cache+":"+cachepolicy.AppTag(h.app, "cache")) != "" {
		t.Error("image-only service wrote a cache ref")
	}
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
	if !strings.Contains(log, "generation 1 apps do not use the persistent build cache") {
		t.Errorf("no line saying why:\n%s", log)
	}
	if strings.Contains(log, "rack-build-cache") {
		t.Errorf("gen1 build mentions the cache repo:\n%s", log)
	}
	if tags := h.tags(h.cache); len(tags) != 0 {
		t.Errorf("cache repo has tags %q", tags)
	}
	if h.digest(h.push+":web."+b.Id) == "" {
		t.Error("gen1 image not pushed")
	}
}

// TestMaliciousSourceRefused: a traversal tarball fails the build with a clear reason.
func TestMaliciousSourceRefused(t *testing.T) {
	rack := memrack.New()
	rack.AddBuild("app", "B1")
	if _, err := rack.ObjectStore("app", "tmp/evil.tgz", bytes.NewReader(evilTarball(t)), structs.ObjectStoreOptions{}); err != nil {
		t.Fatal(err)
	}
	err := Run(t.Context(), rack, Options{Spec: buildtask.Spec{App: "app", ID: "B1", URL: "object://app/tmp/evil.tgz", Push: "127.0.0.1:1/app"}}, nil)
	b, _ := rack.BuildGet("app", "B1")
	if err == nil || b.Status != "failed" || !strings.Contains(b.Reason, "path traversal") {
		t.Fatalf("err = %v, status %q, reason %q", err, b.Status, b.Reason)
	}
	if !strings.Contains(rack.Object("app", "build/B1/logs"), "path traversal") {
		t.Error("failure not in the stored logs")
	}
}
