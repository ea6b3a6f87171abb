package local

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convox/stdcli"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/cli"
)

// convox runs one CLI command in process against the rack at RACK_URL.
func convox(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.New("test")
	e.Writer.Stdout, e.Writer.Stderr, e.Writer.Color = &out, &errb, false
	e.Reader = &stdcli.Reader{Reader: strings.NewReader("")}
	e.Settings = t.TempDir()
	if code := e.Execute(args); code != 0 {
		t.Fatalf("convox %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

var releaseLine = regexp.MustCompile(`Build:\s+(B[A-Z]+)`)

// The MUST SHOW list through the CLI: BuildCache=Yes, two builds on fresh
// builders (the second all CACHED), cleanup with retention 1 and the clock
// two days on expires cache images and keeps app images, BuildCache=No
// removes the cache repository from the registry.
func TestCLICacheLifecycle(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Now()}
	r := startLive(t, t.TempDir(), Options{Now: func() time.Time { return c.t }})
	t.Setenv("RACK_URL", r.url)
	src := filepath.Join(testenv.RepoRoot(), "examples", "cached-deps")

	convox(t, "apps", "create", "demo")
	if out := convox(t, "rack", "params", "set", "BuildCache=Yes", "BuildEphemeral=Yes"); !strings.Contains(out, "OK") {
		t.Fatalf("params set: %s", out)
	}
	if ok, _ := r.repos.Exists(ctx, "rack1-build-cache"); !ok {
		t.Fatal("BuildCache=Yes did not create rack1-build-cache")
	}
	var ids []string
	for i := 0; i < 2; i++ {
		out := convox(t, "build", src, "-a", "demo", "--build-args", "DEPS_WORK_MB=200")
		if !strings.Contains(out, "Starting a fresh BuildKit daemon") {
			t.Fatalf("build %d not on a fresh builder:\n%s", i+1, out)
		}
		m := releaseLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no build id in:\n%s", out)
		}
		ids = append(ids, m[1])
		if i == 1 {
			runs := regexp.MustCompile(`(?m)^#\d+ \[\d+/\d+\] (RUN|COPY|WORKDIR) `).FindAllString(out, -1)
			if cachedSteps := strings.Count(out, "CACHED"); len(runs) == 0 || cachedSteps < 5 {
				t.Fatalf("second build: %d CACHED for %d steps:\n%s", cachedSteps, len(runs), out)
			}
		}
	}
	info := convox(t, "builds", "info", ids[1], "-a", "demo")
	if !regexp.MustCompile(`web\s+5/5 steps cached`).MatchString(info) {
		t.Fatalf("builds info lacks the full cache summary:\n%s", info)
	}
	t.Logf("builds info of the warm build:\n%s", info)

	convox(t, "rack", "params", "set", "BuildCacheCleanup=Yes", "BuildCacheRetentionDays=1")
	cacheTags, _ := r.repos.Tags(ctx, "rack1-build-cache")
	appTags, _ := r.repos.Tags(ctx, "demo")
	c.t = c.t.Add(48 * time.Hour)
	res, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Expired) == 0 || len(res.Expired) != len(cacheTags)-1 {
		t.Fatalf("expired %v of cache tags %v", res.Expired, cacheTags)
	}
	if left, _ := r.repos.Tags(ctx, "rack1-build-cache"); !slices.Equal(left, []string{"convox-repository"}) {
		t.Fatalf("cache tags after the sweep: %v", left)
	}
	if left, _ := r.repos.Tags(ctx, "demo"); !slices.Equal(left, appTags) || len(left) != 2 {
		t.Fatalf("app tags %v became %v", appTags, left)
	}

	convox(t, "rack", "params", "set", "BuildCache=No")
	if ok, _ := r.repos.Exists(ctx, "rack1-build-cache"); ok {
		t.Fatal("BuildCache=No left rack1-build-cache in the registry catalog")
	}
	if tags, _ := r.repos.Tags(ctx, "rack1-build-cache"); len(tags) != 0 {
		t.Fatalf("cache tags after BuildCache=No: %v", tags)
	}
	if out := convox(t, "rack", "params", "-g", "build"); !regexp.MustCompile(`BuildCache\s+No`).MatchString(out) {
		t.Fatalf("rack params:\n%s", out)
	}
}
