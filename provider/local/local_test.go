package local

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a movable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRack(t *testing.T, dir string, now func() time.Time) *Provider {
	t.Helper()
	p, err := New(Options{Name: "rack1", Dir: dir, Password: "pw", Now: now, JanitorInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func pushRandom(t *testing.T, p *Provider, repo, tag string) {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	ref, err := p.repos.Tag(repo, tag)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(p.RegistryAuth())))
}

func TestBuildCacheParameterCreatesAndDeletesTheRepo(t *testing.T) {
	ctx := context.Background()
	p := newRack(t, t.TempDir(), time.Now)
	_, err := p.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	pushRandom(t, p, "app1", "web.BAPP")
	ok, err := p.repos.Exists(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.False(t, ok, "cache repo exists before BuildCache=Yes")
	err = p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
	require.NoError(t, err)
	ok, err = p.repos.Exists(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.True(t, ok, "BuildCache=Yes did not create the cache repo")
	s, _ := p.SystemGet()
	require.EqualValues(t, "Yes", s.Parameters["BuildCache"], "system = %+v", s)
	require.Equal(t, p.Registry()+"/rack1-build-cache", s.Outputs["BuildCacheRepository"], "system = %+v", s)
	pushRandom(t, p, "rack1-build-cache", "web.buildcache")
	pushRandom(t, p, "rack1-build-cache", "4f5e6d")

	err = p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "No"}})
	require.NoError(t, err)
	ok, err = p.repos.Exists(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.False(t, ok, "BuildCache=No left the cache repo in the catalog")
	tags, err := p.repos.Tags(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.Empty(t, tags, "cache tags left")
	tags, err = p.repos.Tags(ctx, "app1")
	require.NoError(t, err)
	require.True(t, slices.Equal(tags, []string{"web.BAPP"}), "app images after BuildCache=No: %v", tags)
}

func TestSystemUpdateValidatesWithTheCatalogue(t *testing.T) {
	p := newRack(t, t.TempDir(), time.Now)
	for _, bad := range []map[string]string{
		{"BuildCacheRetentionDays": "0"},
		{"BuildCache": "yes"},
		{"NoSuchParam": "1"},
		{"BuildMethod": "lambda"},
		{"Password": "new"},
	} {
		err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: bad})
		assert.ErrorIs(t, err, structs.ErrInvalid, "SystemUpdate(%v) = %v, want ErrInvalid", bad, err)
	}
	s, _ := p.SystemGet()
	require.EqualValues(t, "30", s.Parameters["BuildCacheRetentionDays"], "defaults changed by refused updates: %v", s.Parameters)
	require.EqualValues(t, "ec2", s.Parameters["BuildMethod"], "defaults changed by refused updates: %v", s.Parameters)
	_, ok := mustSystem(t, p).Parameters["Password"]
	require.False(t, ok, "SystemGet shows the password")
}

func mustSystem(t *testing.T, p *Provider) *structs.System {
	s, err := p.SystemGet()
	require.NoError(t, err)
	return s
}

func TestJanitorExpiresCacheImagesWithTheClockMoved(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	p := newRack(t, t.TempDir(), c.now)
	p.AppCreate("app1", structs.AppCreateOptions{})
	err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{
		"BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "1"}})
	require.NoError(t, err)
	pushRandom(t, p, "rack1-build-cache", "web.buildcache")
	pushRandom(t, p, "app1", "web.BONE")
	res, err := p.Sweep(ctx)
	require.NoError(t, err, "sweep at push time = %+v, %v", res, err)
	require.Empty(t, res.Expired, "sweep at push time = %+v, %v", res, err)
	c.t = c.t.Add(48 * time.Hour)
	res, err = p.Sweep(ctx)
	require.NoError(t, err, "sweep two days later = %+v, %v", res, err)
	require.True(t, slices.Equal(res.Expired, []string{"web.buildcache"}), "sweep two days later = %+v, %v", res, err)
	tags, err := p.repos.Tags(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.NotContains(t, tags, "web.buildcache", "expired image still tagged")
	tags, err = p.repos.Tags(ctx, "app1")
	require.NoError(t, err)
	require.True(t, slices.Equal(tags, []string{"web.BONE"}), "app image touched: %v", tags)
}

func TestRestartFailsRunningBuildsAndKeepsLogs(t *testing.T) {
	dir := t.TempDir()
	p, err := New(Options{Name: "rack1", Dir: dir, Password: "pw", JanitorInterval: -1})
	require.NoError(t, err)
	p.AppCreate("app1", structs.AppCreateOptions{})
	err = p.store.BuildPut(structs.Build{Id: "BRUNNING", App: "app1", Status: structs.BuildStatusRunning, Started: time.Now()})
	require.NoError(t, err)
	os.MkdirAll(dir+"/logs/app1", 0o700)
	os.WriteFile(p.logPath("app1", "BRUNNING"), []byte("Step 1/3 : FROM debian\n"), 0o600)
	registry := p.Registry()
	p.Close()

	p = newRack(t, dir, time.Now)
	assert.Equal(t, registry, p.Registry(), "registry moved from %s to %s across the restart", registry, p.Registry())
	b, err := p.BuildGet("app1", "BRUNNING")
	require.NoError(t, err)
	require.Equal(t, structs.BuildStatusFailed, b.Status, "build after restart = %+v", b)
	require.Contains(t, b.Reason, "restarted", "build after restart = %+v", b)
	require.False(t, b.Ended.IsZero(), "build after restart = %+v", b)
	r, err := p.BuildLogs("app1", "BRUNNING", structs.LogsOptions{})
	require.NoError(t, err)
	logs, _ := io.ReadAll(r)
	r.Close()
	require.Contains(t, string(logs), "Step 1/3", "logs after restart = %q", logs)
	require.Contains(t, string(logs), "restarted", "logs after restart = %q", logs)
	// A late report from the old task cannot revive the build.
	done := structs.BuildStatusComplete
	b, _ = p.BuildUpdate("app1", "BRUNNING", structs.BuildUpdateOptions{Status: &done})
	require.Equal(t, structs.BuildStatusFailed, b.Status, "late update revived the build: %+v", b)
}
