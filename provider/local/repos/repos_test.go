package repos

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/registry"

	"github.com/stretchr/testify/require"
)

// start runs a real registry on a free loopback port for one test.
func start(t *testing.T) *Client {
	t.Helper()
	dir := t.TempDir()
	srv, err := registry.Start(context.Background(), registry.Options{Dir: dir, Username: "convox", Password: "secret-pw"})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return &Client{Host: srv.Host(), Auth: &authn.Basic{Username: "convox", Password: "secret-pw"}, Dir: dir}
}

func push(t *testing.T, c *Client, repo, tag string) {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	ref, err := c.Tag(repo, tag)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(c.Auth)))
}

func TestMarkThenRemoveLeavesOtherRepos(t *testing.T) {
	ctx := context.Background()
	c := start(t)
	cache := "rack1-build-cache"
	ok, err := c.Exists(ctx, cache)
	require.NoError(t, err)
	require.False(t, ok, "cache repo exists before Mark")
	require.NoError(t, c.Mark(ctx, cache))
	ok, err = c.Exists(ctx, cache)
	require.True(t, ok, "cache repo missing from the catalog after Mark: %v", err)
	require.NoError(t, err, "cache repo missing from the catalog after Mark: %v", err)
	push(t, c, cache, "web.buildcache")
	push(t, c, cache, "0123abcd")
	push(t, c, "app1", "web.BABC")
	tags, _ := c.Tags(ctx, cache)
	require.Len(t, tags, 3, "cache tags = %v", tags)

	require.NoError(t, c.Remove(ctx, cache))
	ok, err = c.Exists(ctx, cache)
	require.NoError(t, err)
	require.False(t, ok, "cache repo still in the catalog")
	tags, err = c.Tags(ctx, cache)
	require.NoError(t, err, "cache tags after Remove = %v, %v", tags, err)
	require.Empty(t, tags, "cache tags after Remove = %v, %v", tags, err)
	tags, err = c.Tags(ctx, "app1")
	require.NoError(t, err)
	require.True(t, slices.Equal(tags, []string{"web.BABC"}), "app tags after Remove = %v", tags)
	// Removing again is fine, and the repo can come back.
	require.NoError(t, c.Remove(ctx, cache))
	require.NoError(t, c.Mark(ctx, cache))
	tags, _ = c.Tags(ctx, cache)
	require.True(t, slices.Equal(tags, []string{MarkerTag}), "tags after a new Mark = %v", tags)
}
