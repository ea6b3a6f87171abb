package janitor

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/registry"
	"github.com/convox/rack/provider/local/repos"
	"github.com/convox/rack/provider/local/store"

	"github.com/stretchr/testify/require"
)

// clock is a movable time for the janitor.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestSweepExpiresOnlyOldCacheImages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := registry.Start(ctx, registry.Options{Dir: filepath.Join(dir, "registry"), Username: "convox", Password: "pw-janitor"})
	require.NoError(t, err)
	defer srv.Close()
	reg := &repos.Client{Host: srv.Host(), Auth: &authn.Basic{Username: "convox", Password: "pw-janitor"}}
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	defer st.Close()
	push := func(repo, tag string) {
		img, _ := random.Image(128, 1)
		ref, _ := reg.Tag(repo, tag)
		require.NoError(t, remote.Write(ref, img, remote.WithAuth(reg.Auth)))
	}
	const cache = "rack1-build-cache"
	require.NoError(t, reg.Mark(ctx, cache))
	push(cache, "web.buildcache")
	push(cache, "0a1b2c")
	push("app1", "web.B1")

	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	j := &Janitor{Repo: cache, Registry: reg, Pushes: st, Now: c.Now, Skip: []string{repos.MarkerTag}}
	policy := Policy{Cleanup: true, RetentionDays: 1}

	res, err := j.Sweep(ctx, policy)
	require.NoError(t, err, "first sweep = %+v, %v", res, err)
	require.Empty(t, res.Expired, "first sweep = %+v, %v", res, err)
	require.Len(t, res.Kept, 2, "first sweep = %+v, %v", res, err)
	c.t = c.t.Add(12 * time.Hour)
	push(cache, "fresh") // pushed half a day after the others
	off, err := j.Sweep(ctx, Policy{Cleanup: false, RetentionDays: 1})
	require.NoError(t, err)
	require.Empty(t, off.Expired, "cleanup off expired images")
	c.t = c.t.Add(20 * time.Hour) // 32h after the first pushes, 20h after "fresh"
	res, err = j.Sweep(ctx, policy)
	require.NoError(t, err)
	require.True(t, slices.Equal(res.Expired, []string{"0a1b2c", "web.buildcache"}), "sweep after 32h = %+v", res)
	require.True(t, slices.Equal(res.Kept, []string{"fresh"}), "sweep after 32h = %+v", res)
	tags, err := reg.Tags(ctx, cache)
	require.NoError(t, err)
	require.True(t, slices.Equal(tags, []string{"convox-repository", "fresh"}), "cache tags after the sweep = %v", tags)
	tags, err = reg.Tags(ctx, "app1")
	require.NoError(t, err)
	require.True(t, slices.Equal(tags, []string{"web.B1"}), "app image touched: %v", tags)
}
