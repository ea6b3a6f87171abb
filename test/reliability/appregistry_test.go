package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppRegistryFailsEC2 and TestAppRegistryFailsFargate: when the app's
// own repository fails, the build fails with a reason naming the push and
// keeps its logs; the cache repository, healthy in the same registry, is not blamed.
func TestAppRegistryFailsEC2(t *testing.T)     { testAppRegistryFails(t, "ec2") }
func TestAppRegistryFailsFargate(t *testing.T) { testAppRegistryFails(t, "fargate") }

func testAppRegistryFails(t *testing.T, method string) {
	w := newWorld(t, method, true)
	for _, f := range []faultproxy.Fault{faultproxy.Status500, faultproxy.Unauthorized, faultproxy.Refuse} {
		t.Run(string(f), func(t *testing.T) {
			w := w.in(t)
			w.proxy.Fail(app, f, faultproxy.Writes())
			defer w.proxy.HealAll()
			o := w.opts(w.source(method + "-app-" + string(f)))
			log, b, err := w.run(o, 4*time.Minute)
			require.Error(t, err, "build pushing to a failing app repository: err=%v status=%q", err, b.Status)
			require.Equal(t, structs.BuildStatusFailed, b.Status, "build pushing to a failing app repository: err=%v status=%q", err, b.Status)
			require.NotZero(t, w.proxy.Faulted(app), "the build never reached the app repository")
			checkFailed(t, w.rack, b, log)
			reason := strings.ToLower(b.Reason)
			assert.False(t, !strings.Contains(reason, "push") && !strings.Contains(reason, app), "reason does not say the push to the app repository failed: %q", b.Reason)
			assert.Empty(t, b.Release, "failed build has release %q", b.Release)
			for _, l := range warnings(log) {
				assert.NotContains(t, l, "build cache failed", "the app repository's failure is blamed on the cache: %q", l)
			}
		})
	}
}

// checkFailed: a failed build has a reason, an end time and its logs stored,
// with the failure in them.
func checkFailed(t *testing.T, rack *memrack.Rack, b *structs.Build, log string) {
	t.Helper()
	assert.NotEmpty(t, strings.TrimSpace(b.Reason), "failed build has no reason")
	assert.False(t, b.Ended.IsZero(), "failed build has no end time")
	require.NotEmpty(t, b.Logs, "failed build kept no logs")
	key := strings.TrimPrefix(b.Logs, "object://"+b.App+"/")
	stored := rack.Object(b.App, key)
	assert.NotEmpty(t, stored, "stored logs of the failed build lack the failure (%d bytes)", len(stored))
	assert.Contains(t, stored, "ERROR", "stored logs of the failed build lack the failure (%d bytes)", len(stored))
	assert.False(t, len(stored) < len(log)/2, "stored logs (%d bytes) are much shorter than the build's output (%d)", len(stored), len(log))
}
