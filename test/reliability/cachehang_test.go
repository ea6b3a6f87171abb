package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/structs"
)

// hangBound is how long a fargate build may take when its cache registry
// hangs mid-build: the guard's idle limit, the 15 s check of kaniko's
// misses, and a build of this small app without the cache, with room for a
// shared machine.
const hangBound = engine.DefaultCacheIdle + 15*time.Second + 75*time.Second

// TestCacheHangMidBuildFargate: the cache registry passes the check before
// the build and answers kaniko's first cache request, then stops answering
// anything (requests held for 10 minutes). The build ends within hangBound
// with the right image, a WARNING that the cache stopped answering, and no
// claim to the persistent cache.
func TestCacheHangMidBuildFargate(t *testing.T) {
	w := newWorld(t, "fargate", false)
	testCacheHang(t, w, w.source("hang"), "hang")
}

// TestCacheHangMidBuildFargateMultiStage: the same hang while kaniko builds
// a multi-stage Dockerfile whose target copies from another stage.
func TestCacheHangMidBuildFargateMultiStage(t *testing.T) {
	w := newWorld(t, "fargate", false)
	url := w.sourceWith("hang-stages", "FROM busybox:latest AS builder\nWORKDIR /app\nRUN echo built > built.txt\nCOPY token.txt .\n"+
		"FROM busybox:latest\nCOPY --from=builder /app/built.txt /app/token.txt /app/\nCMD [\"cat\", \"/app/token.txt\"]\n")
	testCacheHang(t, w, url, "hang-stages")
}

// testCacheHang builds url twice, the second time with the cache hanging
// from kaniko's second request on, and returns the second build's log.
func testCacheHang(t *testing.T, w *world, url, token string) string {
	w.mustBuild(w.opts(url))
	_, err := w.cacheImages()
	require.NoError(t, err, "the first build left no usable cache")

	// the check before the build reads the cache repository three times;
	// kaniko's first lookup is the fourth request, the fifth on hangs
	w.proxy.Fail(cacheName, faultproxy.Slow, faultproxy.Delay(10*time.Minute), faultproxy.After(4))
	start := time.Now()
	log, b, err := w.run(w.opts(url), 3*time.Minute)
	took := time.Since(start)
	w.proxy.HealAll()
	require.NoError(t, err, tail(log))
	require.Equal(t, structs.BuildStatusComplete, b.Status, b.Reason)
	assert.Less(t, took, hangBound, "the build took %s under a hung cache\n%s", took, tail(log))
	w.checkImage(b.Id, token)
	require.Positive(t, w.proxy.Faulted(cacheName), "kaniko never reached the hung cache repository")
	assert.NotContains(t, log, "building without the persistent cache", "the hang hit the check before the build, not kaniko")
	warns := strings.Join(warnings(log), "\n")
	assert.Contains(t, warns, "WARNING: the build cache "+w.cache+" stopped answering mid-build")
	assert.Contains(t, warns, "WARNING: the build cache failed")
	for _, s := range b.Cache {
		assert.False(t, s.PersistentCache, "service %s claims the persistent cache under a hung cache", s.Service)
	}
	t.Logf("build under a cache hung mid-build: %s (bound %s)\n%s", took.Round(time.Second), hangBound, warns)
	return log
}
