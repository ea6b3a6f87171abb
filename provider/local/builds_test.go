package local

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"

	"github.com/convox/rack/pkg/structs"
)

// Two ec2 builds, each on a brand-new BuildKit daemon: the second reuses every
// step from {rack}-build-cache.
func TestEC2FreshBuildersReuseTheRegistryCache(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildEphemeral=Yes")
	url := r.upload(t, "app1", "cached-deps")

	first, logs := r.build(t, "app1", url, smallDeps())
	if first.Status != structs.BuildStatusComplete {
		t.Fatalf("first build %s: %s\n%s", first.Status, first.Reason, logs)
	}
	second, logs := r.build(t, "app1", url, smallDeps())
	if second.Status != structs.BuildStatusComplete {
		t.Fatalf("second build %s: %s\n%s", second.Status, second.Reason, logs)
	}
	steps, hits := cached(second)
	if steps == 0 || hits != steps {
		t.Fatalf("second build cached %d of %d steps: %+v\n%s", hits, steps, second.Cache, logs)
	}
	tags, _ := r.repos.Tags(context.Background(), "rack1-build-cache")
	if !slices.Contains(tags, "app1.web.buildcache") {
		t.Fatalf("cache tags = %v", tags)
	}
	if tags, _ := r.repos.Tags(context.Background(), "app1"); !slices.Contains(tags, "web."+second.Id) {
		t.Fatalf("app tags = %v", tags)
	}
	t.Logf("first build %s, second %s: %d/%d cached", first.Ended.Sub(first.Started), second.Ended.Sub(second.Started), hits, steps)
}

// The fargate method: cmd/build and kaniko in a fresh runc container per build;
// the second build takes its layers from the cache repo.
func TestFargateRuncBuildsWithKaniko(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	testenv.Tool(t, "executor")
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildMethod=fargate")
	url := r.upload(t, "app1", "cached-deps")

	first, logs := r.build(t, "app1", url, smallDeps())
	if first.Status != structs.BuildStatusComplete {
		t.Fatalf("first build %s: %s\n%s", first.Status, first.Reason, logs)
	}
	if !strings.Contains(logs, "fresh runc container") {
		t.Fatalf("first build did not run in runc:\n%s", logs)
	}
	second, logs := r.build(t, "app1", url, smallDeps())
	if second.Status != structs.BuildStatusComplete {
		t.Fatalf("second build %s: %s\n%s", second.Status, second.Reason, logs)
	}
	// kaniko's own words for a layer taken from --cache-repo
	if n := strings.Count(logs, "Found cached layer"); n < 2 {
		t.Fatalf("second kaniko build took %d layers from the cache repo:\n%s", n, logs)
	}
	tags, _ := r.repos.Tags(context.Background(), "rack1-build-cache")
	if len(tags) < 2 {
		t.Fatalf("kaniko wrote no cache layers: %v", tags)
	}
	t.Logf("fargate first %s, second %s, cache %+v", first.Ended.Sub(first.Started), second.Ended.Sub(second.Started), second.Cache)
}
