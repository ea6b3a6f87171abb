package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/pkg/structs"
)

// down is the cache registry refusing connections outright (its listener closed).
const down faultproxy.Fault = "down"

// TestCacheFaultsEC2: buildx on a fresh BuildKit root per build.
func TestCacheFaultsEC2(t *testing.T) { testCacheFaults(t, "ec2") }

// TestCacheFaultsFargate: kaniko in a fresh container per build.
func TestCacheFaultsFargate(t *testing.T) { testCacheFaults(t, "fargate") }

// testCacheFaults: for each fault of the cache registry, a build succeeds with
// the right image and a WARNING; the next healthy build repairs the cache, and
// the build after it is served from that cache.
func testCacheFaults(t *testing.T, method string) {
	w := newWorld(t, method, false)
	// a cold cache (no ref yet) is normal: no warning, one build
	log, _ := w.mustBuild(w.opts(w.source("warm")))
	if warns := warnings(log); len(warns) > 0 {
		t.Errorf("first build on an empty cache warns: %q", warns)
	}
	if n := strings.Count(log, "Building web"); n != 1 {
		t.Errorf("first build on an empty cache built %d times, want once", n)
	}
	if _, err := w.cacheImages(); err != nil {
		t.Fatalf("warm build left no usable cache: %v", err)
	}
	for _, f := range append([]faultproxy.Fault{down}, faultproxy.Faults...) {
		t.Run(string(f), func(t *testing.T) {
			w := w.in(t)
			token := method + "-" + string(f) + "-" + time.Now().Format("150405.000")
			url := w.source(token)

			if f == down {
				if err := w.proxy.Down(); err != nil {
					t.Fatal(err)
				}
			} else {
				w.proxy.Fail(cacheName, f, faultproxy.Delay(10*time.Minute))
			}
			// a cache that stops answering must cost a bounded delay, not the build
			log, b, err := w.run(w.opts(url), 3*time.Minute)
			w.proxy.HealAll()
			if err := w.proxy.Up(); err != nil {
				t.Fatal(err)
			}
			if err != nil || b.Status != structs.BuildStatusComplete {
				t.Fatalf("a cache %s fault failed the build: err=%v status=%q reason=%q\n%s", f, err, b.Status, b.Reason, tail(log))
			}
			w.checkImage(b.Id, token)
			if f != down && w.proxy.Faulted(cacheName) == 0 {
				t.Fatalf("the build never reached the faulted cache repository")
			}
			warns := warnings(log)
			if len(warns) == 0 || !strings.Contains(strings.ToLower(strings.Join(warns, "\n")), "cache") {
				t.Errorf("no WARNING about the cache in the log of a build under a cache %s fault:\n%s", f, tail(log))
			}
			for _, s := range b.Cache {
				if s.PersistentCache {
					t.Errorf("service %s claims the persistent cache under a %s fault", s.Service, f)
				}
			}

			// the next healthy build writes what the faulted one could not
			log, b = w.mustBuild(w.opts(url))
			w.checkImage(b.Id, token)
			if warns := warnings(log); len(warns) > 0 {
				t.Errorf("healthy build warns: %q", warns)
			}
			if _, err := w.cacheImages(); err != nil {
				t.Fatalf("cache after the healthy build: %v", err)
			}

			// and that cache, complete again, serves every step of the build after it
			log, b = w.mustBuild(w.opts(url))
			w.checkImage(b.Id, token)
			for _, s := range b.Cache {
				if !s.PersistentCache || s.Cached == 0 || s.Cached < cachedSteps(method, s.Steps) {
					t.Errorf("build after the repair: %s %d of %d steps cached, persistent %v\n%s", s.Service, s.Cached, s.Steps, s.PersistentCache, tail(log))
				}
			}
		})
	}
}

// TestCacheFaultMidBuildFargate: the cache passes the check before the build
// and starts failing while kaniko looks its layers up. Kaniko itself calls
// that a miss; the build still succeeds with the right image, warns that the
// cache failed and does not claim the persistent cache.
func TestCacheFaultMidBuildFargate(t *testing.T) {
	w := newWorld(t, "fargate", false)
	url := w.source("mid-build")
	w.mustBuild(w.opts(url))
	if _, err := w.cacheImages(); err != nil {
		t.Fatalf("the first build left no usable cache: %v", err)
	}
	// the check before the build lists the tags and reads one manifest and
	// its config blob: three reads of the cache repository
	w.proxy.Fail(cacheName, faultproxy.Status500, faultproxy.Reads(), faultproxy.After(3))
	log, b, err := w.run(w.opts(url), 3*time.Minute)
	w.proxy.HealAll()
	if err != nil || b.Status != structs.BuildStatusComplete {
		t.Fatalf("a cache fault mid-build failed the build: err=%v status=%q reason=%q\n%s", err, b.Status, b.Reason, tail(log))
	}
	w.checkImage(b.Id, "mid-build")
	if w.proxy.Faulted(cacheName) == 0 {
		t.Fatal("kaniko never reached the faulted cache repository")
	}
	if strings.Contains(log, "building without the persistent cache") {
		t.Fatalf("the fault hit the check before the build, not kaniko; the check reads more than three times now:\n%s", tail(log))
	}
	warns := strings.Join(warnings(log), "\n")
	if !strings.Contains(warns, "the build cache failed (kaniko could not read "+w.cache+":") {
		t.Errorf("no WARNING naming the cache layer kaniko could not read:\n%s", tail(log))
	}
	for _, s := range b.Cache {
		if s.PersistentCache {
			t.Errorf("service %s claims the persistent cache under a mid-build fault", s.Service)
		}
	}
}

// in is the world for subtest t.
func (w *world) in(t *testing.T) *world {
	c := *w
	c.t = t
	return &c
}

// cachedSteps is how many of a fully cached build's steps an engine reports
// as cached: buildx every step, kaniko its two RUN layers.
func cachedSteps(method string, steps int) int {
	if method == "fargate" {
		return 2
	}
	return steps
}
