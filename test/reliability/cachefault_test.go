package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Empty(t, warnings(log), "first build on an empty cache warns")
	assert.Equal(t, 1, strings.Count(log, "Building web"), "first build on an empty cache: times built")
	_, err := w.cacheImages()
	require.NoError(t, err, "warm build left no usable cache: %v", err)
	for _, f := range append([]faultproxy.Fault{down}, faultproxy.Faults...) {
		t.Run(string(f), func(t *testing.T) {
			w := w.in(t)
			token := method + "-" + string(f) + "-" + time.Now().Format("150405.000")
			url := w.source(token)

			if f == down {
				require.NoError(t, w.proxy.Down())
			} else {
				w.proxy.Fail(cacheName, f, faultproxy.Delay(10*time.Minute))
			}
			// a cache that stops answering must cost a bounded delay, not the build
			log, b, err := w.run(w.opts(url), 3*time.Minute)
			w.proxy.HealAll()
			require.NoError(t, w.proxy.Up())
			require.NoError(t, err, "a cache %s fault failed the build: err=%v status=%q reason=%q\n%s", f, err, b.Status, b.Reason, tail(log))
			require.Equal(t, structs.BuildStatusComplete, b.Status, "a cache %s fault failed the build: err=%v status=%q reason=%q\n%s", f, err, b.Status, b.Reason, tail(log))
			w.checkImage(b.Id, token)
			require.False(t, f != down && w.proxy.Faulted(cacheName) == 0, "the build never reached the faulted cache repository")
			warns := warnings(log)
			if assert.NotEmpty(t, warns, "no WARNING about the cache in the log of a build under a cache %s fault:\n%s", f, tail(log)) {
				assert.Contains(t, strings.ToLower(strings.Join(warns, "\n")), "cache", "no WARNING about the cache in the log of a build under a cache %s fault:\n%s", f, tail(log))
			}
			require.NotEmpty(t, b.Cache, "build under a cache %s fault has no cache summary", f)
			for _, s := range b.Cache {
				assert.False(t, s.PersistentCache, "service %s claims the persistent cache under a %s fault", s.Service, f)
			}

			// the next healthy build writes what the faulted one could not
			log, b = w.mustBuild(w.opts(url))
			w.checkImage(b.Id, token)
			warns = warnings(log)
			assert.Empty(t, warns, "healthy build warns: %q", warns)
			_, err = w.cacheImages()
			require.NoError(t, err, "cache after the healthy build: %v", err)

			// and that cache, complete again, serves every step of the build after it
			log, b = w.mustBuild(w.opts(url))
			w.checkImage(b.Id, token)
			require.NotEmpty(t, b.Cache, "build after the repair has no cache summary")
			for _, s := range b.Cache {
				assert.True(t, s.PersistentCache, "build after the repair: %s %d of %d steps cached, persistent %v\n%s", s.Service, s.Cached, s.Steps, s.PersistentCache, tail(log))
				assert.NotZero(t, s.Cached, "build after the repair: %s %d of %d steps cached, persistent %v\n%s", s.Service, s.Cached, s.Steps, s.PersistentCache, tail(log))
				assert.False(t, s.Cached < cachedSteps(method, s.Steps), "build after the repair: %s %d of %d steps cached, persistent %v\n%s", s.Service, s.Cached, s.Steps, s.PersistentCache, tail(log))
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
	_, err := w.cacheImages()
	require.NoError(t, err, "the first build left no usable cache: %v", err)
	// the check before the build lists the tags and reads one manifest and
	// its config blob: three reads of the cache repository
	w.proxy.Fail(cacheName, faultproxy.Status500, faultproxy.Reads(), faultproxy.After(3))
	log, b, err := w.run(w.opts(url), 3*time.Minute)
	w.proxy.HealAll()
	require.NoError(t, err, "a cache fault mid-build failed the build: err=%v status=%q reason=%q\n%s", err, b.Status, b.Reason, tail(log))
	require.Equal(t, structs.BuildStatusComplete, b.Status, "a cache fault mid-build failed the build: err=%v status=%q reason=%q\n%s", err, b.Status, b.Reason, tail(log))
	w.checkImage(b.Id, "mid-build")
	require.NotZero(t, w.proxy.Faulted(cacheName), "kaniko never reached the faulted cache repository")
	require.NotContains(t, log, "building without the persistent cache", "the fault hit the check before the build, not kaniko; the check reads more than three times now:\n%s", tail(log))
	warns := strings.Join(warnings(log), "\n")
	assert.Contains(t, warns, "the build cache failed (kaniko could not read "+w.cache+":", "no WARNING naming the cache layer kaniko could not read:\n%s", tail(log))
	require.NotEmpty(t, b.Cache, "build under a mid-build fault has no cache summary")
	for _, s := range b.Cache {
		assert.False(t, s.PersistentCache, "service %s claims the persistent cache under a mid-build fault", s.Service)
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
