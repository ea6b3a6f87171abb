package repos

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/registry"
)

// start runs a real registry on a free loopback port for one test.
func start(t *testing.T) *Client {
	t.Helper()
	dir := t.TempDir()
	srv, err := registry.Start(context.Background(), registry.Options{Dir: dir, Username: "convox", Password: "secret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &Client{Host: srv.Host(), Auth: &authn.Basic{Username: "convox", Password: "secret-pw"}, Dir: dir}
}

func push(t *testing.T, c *Client, repo, tag string) {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := c.Tag(repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(c.Auth)); err != nil {
		t.Fatal(err)
	}
}

func TestMarkThenRemoveLeavesOtherRepos(t *testing.T) {
	ctx := context.Background()
	c := start(t)
	cache := "rack1-build-cache"
	if ok, _ := c.Exists(ctx, cache); ok {
		t.Fatal("cache repo exists before Mark")
	}
	if err := c.Mark(ctx, cache); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Exists(ctx, cache); !ok || err != nil {
		t.Fatalf("cache repo missing from the catalog after Mark: %v", err)
	}
	push(t, c, cache, "web.buildcache")
	push(t, c, cache, "0123abcd")
	push(t, c, "app1", "web.BABC")
	if tags, _ := c.Tags(ctx, cache); len(tags) != 3 {
		t.Fatalf("cache tags = %v", tags)
	}

	if err := c.Remove(ctx, cache); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Exists(ctx, cache); ok {
		t.Fatal("cache repo still in the catalog")
	}
	if tags, err := c.Tags(ctx, cache); err != nil || len(tags) != 0 {
		t.Fatalf("cache tags after Remove = %v, %v", tags, err)
	}
	if tags, _ := c.Tags(ctx, "app1"); !slices.Equal(tags, []string{"web.BABC"}) {
		t.Fatalf("app tags after Remove = %v", tags)
	}
	// Removing again is fine, and the repo can come back.
	if err := c.Remove(ctx, cache); err != nil {
		t.Fatal(err)
	}
	if err := c.Mark(ctx, cache); err != nil {
		t.Fatal(err)
	}
	if tags, _ := c.Tags(ctx, cache); !slices.Equal(tags, []string{MarkerTag}) {
		t.Fatalf("tags after a new Mark = %v", tags)
	}
}
