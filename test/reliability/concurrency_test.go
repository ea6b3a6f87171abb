package reliability

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentBuildsAndRequests: on a local rack with BuildCache=Yes and a
// fresh builder per build (a fresh BuildKit root on ec2, a fresh kaniko
// container on fargate), 4 builds of one app start at once (all writing the
// same cache) inside a burst of 20 concurrent API requests of mixed kinds.
// Every request's record survives, every build completes with its own image,
// every cache image is whole, and the cache serves the next build.
func TestConcurrentBuildsAndRequests(t *testing.T) {
	for _, method := range []string{"ec2", "fargate"} {
		t.Run(method, func(t *testing.T) { testConcurrent(t, method) })
	}
}

func testConcurrent(t *testing.T, method string) {
	r := rackenv.Start(t, rackenv.Options{})
	c := r.Client
	err := c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes", "BuildEphemeral": "Yes", "BuildMethod": method}})
	require.NoError(t, err)
	_, err = c.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	var urls []string
	for i := 0; i < 4; i++ {
		urls = append(urls, r.Upload(t, "app1", rackenv.SmallApp(t, fmt.Sprintf("concurrent-%d", i))))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	builds := map[string]int{} // build id -> token index
	do := func(what string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				mu.Unlock()
			}
		}()
	}
	start := make(chan struct{})
	gate := func(fn func() error) func() error { return func() error { <-start; return fn() } }
	for i := range urls {
		do("build", gate(func() error {
			b, err := c.BuildCreate("app1", urls[i], structs.BuildCreateOptions{})
			if err == nil {
				mu.Lock()
				builds[b.Id] = i
				mu.Unlock()
			}
			return err
		}))
	}
	for i := 0; i < 6; i++ {
		do("app create", gate(func() error {
			_, err := c.AppCreate(fmt.Sprintf("burst%d", i), structs.AppCreateOptions{})
			return err
		}))
		do("object store", gate(func() error {
			_, err := c.ObjectStore("app1", fmt.Sprintf("burst/%d", i), strings.NewReader(fmt.Sprint("object ", i)), structs.ObjectStoreOptions{})
			return err
		}))
	}
	do("params cleanup", gate(func() error {
		return c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheCleanup": "Yes"}})
	}))
	do("params retention", gate(func() error {
		return c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheRetentionDays": "14"}})
	}))
	do("app list", gate(func() error { _, err := c.AppList(); return err }))
	do("build list", gate(func() error { _, err := c.BuildList("app1", structs.BuildListOptions{}); return err }))
	close(start)
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	require.Len(t, builds, 4, "%d builds created, want 4", len(builds))

	// no record lost
	for i := 0; i < 6; i++ {
		_, err := c.AppGet(fmt.Sprintf("burst%d", i))
		assert.NoError(t, err, "app burst%d lost: %v", i, err)
		rc, err := c.ObjectFetch("app1", fmt.Sprintf("burst/%d", i))
		if !assert.NoError(t, err, "object burst/%d lost: %v", i, err) {
			continue
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		assert.Equal(t, fmt.Sprint("object ", i), string(data), "object burst/%d = %q", i, data)
	}
	sys, err := c.SystemGet()
	require.NoError(t, err)
	p := sys.Parameters
	assert.EqualValues(t, "Yes", p["BuildCacheCleanup"], "concurrent parameter updates lost one: %v", p)
	assert.EqualValues(t, "14", p["BuildCacheRetentionDays"], "concurrent parameter updates lost one: %v", p)
	assert.EqualValues(t, "Yes", p["BuildCache"], "concurrent parameter updates lost one: %v", p)
	assert.Equal(t, method, p["BuildMethod"], "concurrent parameter updates lost one: %v", p)

	// every build completes with its own image
	for id, i := range builds {
		b, logs := r.Wait(t, "app1", id, 8*time.Minute)
		if !assert.Equal(t, structs.BuildStatusComplete, b.Status, "build %s: %s %s\n%s", id, b.Status, b.Reason, tail(logs)) {
			continue
		}
		got := imageToken(t, r, b)
		assert.Equal(t, fmt.Sprintf("concurrent-%d\n", i), got, "build %s image holds %q, want token %d", id, got, i)
	}
	list, err := c.BuildList("app1", structs.BuildListOptions{})
	if assert.NoError(t, err, "build list: %d builds, %v", len(list), err) {
		assert.Len(t, list, 4, "build list: %d builds, %v", len(list), err)
	}

	// every cache image the four wrote is whole (on ec2 one shared ref, on
	// fargate one image per cached step), and the cache serves a fresh builder
	repo, err := name.NewRepository(r.Registry()+"/"+r.CacheRepo(), name.Insecure)
	require.NoError(t, err)
	cache, err := repoImages(repo, r.RegistryAuth())
	require.NoError(t, err, "cache after concurrent writes")
	_, ok := cache["app1.web.buildcache"]
	assert.False(t, method == "ec2" && !ok, "no app1.web.buildcache ref after concurrent ec2 builds: %v", cache)
	b, err := c.BuildCreate("app1", urls[0], structs.BuildCreateOptions{})
	require.NoError(t, err)
	b, logs := r.Wait(t, "app1", b.Id, 5*time.Minute)
	require.Equal(t, structs.BuildStatusComplete, b.Status, "build after the concurrent ones: %s %s\n%s", b.Status, b.Reason, tail(logs))
	require.NotEmpty(t, b.Cache, "build after the concurrent ones has no cache summary")
	for _, s := range b.Cache {
		t.Logf("build after: %s %d of %d steps cached, persistent %v", s.Service, s.Cached, s.Steps, s.PersistentCache)
		// whichever build wrote the cache last, the steps before COPY token.txt
		// are the same in all four: WORKDIR and the first RUN on ec2, that
		// RUN's layer on fargate (kaniko does not count WORKDIR as a hit)
		shared := map[string]int{"ec2": 2, "fargate": 1}[method]
		assert.True(t, s.PersistentCache, "the cache did not serve the build after the concurrent ones\n%s", tail(logs))
		assert.False(t, s.Cached < shared, "the cache did not serve the build after the concurrent ones\n%s", tail(logs))
	}
	w := warnings(logs)
	assert.Empty(t, w, "warnings after concurrent builds: %q", w)
}

// imageToken reads app/token.txt from a build's image in the rack's registry.
func imageToken(t *testing.T, r *rackenv.Rack, b *structs.Build) string {
	t.Helper()
	got, err := testenv.ImageFile(r.Registry()+"/app1:web."+b.Id, "app/token.txt", r.RegistryAuth())
	assert.NoError(t, err, "build %s image", b.Id)
	return got
}
