package local

import (
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
)

// Where a Docker engine runs, builds go through it as on an EC2 host
// (docker-container builder, thrown away between builds with BuildEphemeral)
// and fargate builds run in a fresh `docker run` container with kaniko.
func TestDockerEngineBuilds(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	opts := Options{Docker: docker, BuildKitImage: testenv.BuildKitImage(t), RunnerImage: testenv.KanikoImage(t)}
	r := startLive(t, t.TempDir(), opts)
	t.Cleanup(func() {
		host := r.builds.engineHost(false)
		host.RemoveBuilders(t.Context(), discard{})
	})
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildEphemeral=Yes")
	url := r.upload(t, "app1", "cached-deps")
	for i := 0; i < 2; i++ {
		b, logs := r.build(t, "app1", url, smallDeps())
		if b.Status != structs.BuildStatusComplete || !strings.Contains(logs, "docker engine") {
			t.Fatalf("ec2 engine build %d: %s %s\n%s", i+1, b.Status, b.Reason, logs)
		}
		if steps, hits := cached(b); i == 1 && (steps == 0 || hits != steps) {
			t.Fatalf("second engine build cached %d of %d:\n%s", hits, steps, logs)
		}
	}
	r.set(t, "BuildMethod=fargate")
	b, logs := r.build(t, "app1", url, smallDeps())
	if b.Status != structs.BuildStatusComplete || !strings.Contains(logs, "fresh container") || !strings.Contains(logs, "Found cached layer") && !strings.Contains(logs, "Pushed") {
		t.Fatalf("fargate engine build: %s %s\n%s", b.Status, b.Reason, logs)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
