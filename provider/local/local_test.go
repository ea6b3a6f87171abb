package local

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/pkg/structs"
)

// clock is a movable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRack(t *testing.T, dir string, now func() time.Time) *Provider {
	t.Helper()
	p, err := New(Options{Name: "rack1", Dir: dir, Password: "pw", Now: now, JanitorInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func pushRandom(t *testing.T, p *Provider, repo, tag string) {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := p.repos.Tag(repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(p.RegistryAuth())); err != nil {
		t.Fatal(err)
	}
}

func TestBuildCacheParameterCreatesAndDeletesTheRepo(t *testing.T) {
	ctx := context.Background()
	p := newRack(t, t.TempDir(), time.Now)
	if _, err := p.AppCreate("app1", structs.AppCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pushRandom(t, p, "app1", "web.BAPP")
	if ok, _ := p.repos.Exists(ctx, "rack1-build-cache"); ok {
		t.Fatal("cache repo exists before BuildCache=Yes")
	}
	if err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.repos.Exists(ctx, "rack1-build-cache"); !ok {
		t.Fatal("BuildCache=Yes did not create the cache repo")
	}
	s, _ := p.SystemGet()
	if s.Parameters["BuildCache"] != "Yes" || s.Outputs["BuildCacheRepository"] != p.Registry()+"/rack1-build-cache" {
		t.Fatalf("system = %+v", s)
	}
	pushRandom(t, p, "rack1-build-cache", "web.buildcache")
	pushRandom(t, p, "rack1-build-cache", "4f5e6d")

	if err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "No"}}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.repos.Exists(ctx, "rack1-build-cache"); ok {
		t.Fatal("BuildCache=No left the cache repo in the catalog")
	}
	if tags, _ := p.repos.Tags(ctx, "rack1-build-cache"); len(tags) != 0 {
		t.Fatalf("cache tags left: %v", tags)
	}
	if tags, _ := p.repos.Tags(ctx, "app1"); !slices.Equal(tags, []string{"web.BAPP"}) {
		t.Fatalf("app images after BuildCache=No: %v", tags)
	}
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
		if err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: bad}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("SystemUpdate(%v) = %v, want ErrInvalid", bad, err)
		}
	}
	if s, _ := p.SystemGet(); s.Parameters["BuildCacheRetentionDays"] != "30" || s.Parameters["BuildMethod"] != "ec2" {
		t.Fatalf("defaults changed by refused updates: %v", s.Parameters)
	}
	if _, ok := mustSystem(t, p).Parameters["Password"]; ok {
		t.Fatal("SystemGet shows the password")
	}
}

func mustSystem(t *testing.T, p *Provider) *structs.System {
	s, err := p.SystemGet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJanitorExpiresCacheImagesWithTheClockMoved(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	p := newRack(t, t.TempDir(), c.now)
	p.AppCreate("app1", structs.AppCreateOptions{})
	err := p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{
		"BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	pushRandom(t, p, "rack1-build-cache", "web.buildcache")
	pushRandom(t, p, "app1", "web.BONE")
	if res, err := p.Sweep(ctx); err != nil || len(res.Expired) != 0 {
		t.Fatalf("sweep at push time = %+v, %v", res, err)
	}
	c.t = c.t.Add(48 * time.Hour)
	res, err := p.Sweep(ctx)
	if err != nil || !slices.Equal(res.Expired, []string{"web.buildcache"}) {
		t.Fatalf("sweep two days later = %+v, %v", res, err)
	}
	if tags, _ := p.repos.Tags(ctx, "rack1-build-cache"); slices.Contains(tags, "web.buildcache") {
		t.Fatalf("expired image still tagged: %v", tags)
	}
	if tags, _ := p.repos.Tags(ctx, "app1"); !slices.Equal(tags, []string{"web.BONE"}) {
		t.Fatalf("app image touched: %v", tags)
	}
}

func TestRestartFailsRunningBuildsAndKeepsLogs(t *testing.T) {
	dir := t.TempDir()
	p, err := New(Options{Name: "rack1", Dir: dir, Password: "pw", JanitorInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	p.AppCreate("app1", structs.AppCreateOptions{})
	if err := p.store.BuildPut(structs.Build{Id: "BRUNNING", App: "app1", Status: structs.BuildStatusRunning, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir+"/logs/app1", 0o700)
	os.WriteFile(p.logPath("app1", "BRUNNING"), []byte("Step 1/3 : FROM debian\n"), 0o600)
	registry := p.Registry()
	p.Close()

	p = newRack(t, dir, time.Now)
	if p.Registry() != registry {
		t.Errorf("registry moved from %s to %s across the restart", registry, p.Registry())
	}
	b, err := p.BuildGet("app1", "BRUNNING")
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != structs.BuildStatusFailed || !strings.Contains(b.Reason, "restarted") || b.Ended.IsZero() {
		t.Fatalf("build after restart = %+v", b)
	}
	r, err := p.BuildLogs("app1", "BRUNNING", structs.LogsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := io.ReadAll(r)
	r.Close()
	if !strings.Contains(string(logs), "Step 1/3") || !strings.Contains(string(logs), "restarted") {
		t.Fatalf("logs after restart = %q", logs)
	}
	// A late report from the old task cannot revive the build.
	done := structs.BuildStatusComplete
	if b, _ := p.BuildUpdate("app1", "BRUNNING", structs.BuildUpdateOptions{Status: &done}); b.Status != structs.BuildStatusFailed {
		t.Fatalf("late update revived the build: %+v", b)
	}
}
