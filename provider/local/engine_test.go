package local

import (
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

// Where a Docker engine runs, builds go through it as on an EC2 host
// (docker-container builder, thrown away between builds with BuildEphemeral)
// and fargate builds run in a fresh runc container with kaniko, as strict as
// Fargate, whatever engine runs.
func TestDockerEngineBuilds(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	opts := Options{Docker: docker, BuildKitImage: testenv.BuildKitImage(t)}
	r := startLive(t, t.TempDir(), opts)
	t.Cleanup(func() {
		host := r.builds.engineHost(false)
		host.RemoveBuilders(t.Context(), discard{})
	})
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildEphemeral=Yes")
	url := r.upload(t, "app1", "cached-deps")
	for i := 0; i < 2; i++ {
		if i == 1 { // other inputs, the same steps: built fully cached, not reused whole
			url = r.uploadDir(t, "app1", testenv.Touched(t, "cached-deps", "second"))
		}
		b, logs := r.build(t, "app1", url, smallDeps())
		require.Equal(t, structs.BuildStatusComplete, b.Status, "ec2 engine build %d: %s %s\n%s", i+1, b.Status, b.Reason, logs)
		require.Contains(t, logs, "docker engine", "ec2 engine build %d: %s %s\n%s", i+1, b.Status, b.Reason, logs)
		if i == 1 {
			steps, hits := cached(t, b)
			require.NotZero(t, steps, "second engine build has no cached steps:\n%s", logs)
			require.Equal(t, steps, hits, "second engine build cached %d of %d:\n%s", hits, steps, logs)
		}
	}
	r.set(t, "BuildMethod=fargate")
	b, logs := r.build(t, "app1", url, smallDeps())
	require.Equal(t, structs.BuildStatusComplete, b.Status, "fargate engine build: %s %s\n%s", b.Status, b.Reason, logs)
	require.Contains(t, logs, "fresh runc container", "fargate engine build: %s %s\n%s", b.Status, b.Reason, logs)
	require.True(t, strings.Contains(logs, "Found cached layer") || strings.Contains(logs, "Pushed"), "fargate engine build: %s %s\n%s", b.Status, b.Reason, logs)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
