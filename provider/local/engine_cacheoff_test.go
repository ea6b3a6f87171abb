package local

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
)

// A rack that never turned the cache on builds through the engine as before
// the cache existed: docker build with BuildKit and the engine's layer cache,
// no buildx builder; the rebuild is all cached.
func TestDockerEngineBuildsWithoutCache(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	opts := Options{Docker: docker, BuildKitImage: testenv.BuildKitImage(t)}
	r := startLive(t, t.TempDir(), opts)
	r.AppCreate("app1", structs.AppCreateOptions{})
	url := r.upload(t, "app1", "cached-deps")
	for i := 0; i < 2; i++ {
		if i == 1 {
			// an unread file changes the inputs: the rebuild runs the engine, not a reuse
			url = r.uploadDir(t, "app1", testenv.Touched(t, "cached-deps", "second"))
		}
		b, logs := r.build(t, "app1", url, smallDeps())
		require.Equal(t, structs.BuildStatusComplete, b.Status, "%s\n%s", b.Reason, logs)
		assert.NotContains(t, logs, "buildx builder")
		assert.Contains(t, logs, "(docker)")
		if i == 1 {
			steps, hits := cached(t, b)
			assert.True(t, steps > 0 && hits == steps, "rebuild cached %d of %d:\n%s", hits, steps, logs)
		}
		assert.False(t, strings.Contains(logs, "WARNING"), "warnings:\n%s", logs)
	}
}
