package local

import (
	"context"
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

// Two ec2 builds, each on a brand-new BuildKit daemon: the second (of a copy
// with a file no step reads, so its inputs differ and it is not reused
// whole) reuses every step from {rack}-build-cache.
func TestEC2FreshBuildersReuseTheRegistryCache(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildEphemeral=Yes")
	url := r.upload(t, "app1", "cached-deps")

	first, logs := r.build(t, "app1", url, smallDeps())
	require.Equal(t, structs.BuildStatusComplete, first.Status, "first build: %s\n%s", first.Reason, logs)
	second, logs := r.build(t, "app1", r.uploadDir(t, "app1", testenv.Touched(t, "cached-deps", "second")), smallDeps())
	require.Equal(t, structs.BuildStatusComplete, second.Status, "second build: %s\n%s", second.Reason, logs)
	require.Empty(t, second.Reused, "second build")
	steps, hits := cached(t, second)
	require.NotZero(t, steps, "second build has no steps: %+v\n%s", second.Cache, logs)
	require.Equal(t, steps, hits, "second build cached %d of %d steps: %+v\n%s", hits, steps, second.Cache, logs)
	tags, err := r.repos.Tags(context.Background(), "rack1-build-cache")
	require.NoError(t, err)
	require.Contains(t, tags, "app1.web.buildcache", "cache tags")
	tags, err = r.repos.Tags(context.Background(), "app1")
	require.NoError(t, err)
	require.Contains(t, tags, "web."+second.Id, "app tags")
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
	require.Equal(t, structs.BuildStatusComplete, first.Status, "first build: %s\n%s", first.Reason, logs)
	require.Contains(t, logs, "fresh runc container", "first build did not run in runc")
	second, logs := r.build(t, "app1", r.uploadDir(t, "app1", testenv.Touched(t, "cached-deps", "second")), smallDeps())
	require.Equal(t, structs.BuildStatusComplete, second.Status, "second build: %s\n%s", second.Reason, logs)
	// kaniko's own words for a layer taken from --cache-repo
	n := strings.Count(logs, "Found cached layer")
	require.GreaterOrEqual(t, n, 2, "second kaniko build took %d layers from the cache repo:\n%s", n, logs)
	tags, err := r.repos.Tags(context.Background(), "rack1-build-cache")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(tags), 2, "kaniko wrote no cache layers: %v", tags)
	t.Logf("fargate first %s, second %s, cache %+v", first.Ended.Sub(first.Started), second.Ended.Sub(second.Started), second.Cache)
}
