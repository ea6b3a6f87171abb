package local

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convox/stdcli"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/cli"

	"github.com/stretchr/testify/require"
)

// convox runs one CLI command in process against the rack at RACK_URL.
func convox(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.New("test")
	e.Writer.Stdout, e.Writer.Stderr, e.Writer.Color = &out, &errb, false
	e.Reader = &stdcli.Reader{Reader: strings.NewReader("")}
	e.Settings = t.TempDir()
	code := e.Execute(args)
	require.EqualValues(t, 0, code, "convox %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errb.String())
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
	out := convox(t, "rack", "params", "set", "BuildCache=Yes", "BuildEphemeral=Yes")
	require.Contains(t, out, "OK", "params set")
	ok, err := r.repos.Exists(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.True(t, ok, "BuildCache=Yes did not create rack1-build-cache")
	var ids []string
	for i := 0; i < 2; i++ {
		if i == 1 { // other inputs, the same steps: fully cached, not reused whole
			src = testenv.Touched(t, src, "second")
		}
		out := convox(t, "build", src, "-a", "demo", "--build-args", "DEPS_WORK_MB=200")
		require.Contains(t, out, "Starting a fresh BuildKit daemon", "build %d not on a fresh builder:\n%s", i+1, out)
		m := releaseLine.FindStringSubmatch(out)
		require.NotNil(t, m, "no build id in:\n%s", out)
		ids = append(ids, m[1])
		if i == 1 {
			runs := regexp.MustCompile(`(?m)^#\d+ \[\d+/\d+\] (RUN|COPY|WORKDIR) `).FindAllString(out, -1)
			cachedSteps := strings.Count(out, "CACHED")
			require.NotEmpty(t, runs, "second build: %d CACHED for %d steps:\n%s", cachedSteps, len(runs), out)
			require.False(t, cachedSteps < 5, "second build: %d CACHED for %d steps:\n%s", cachedSteps, len(runs), out)
		}
	}
	info := convox(t, "builds", "info", ids[1], "-a", "demo")
	require.True(t, regexp.MustCompile(`web\s+5/5 steps cached`).MatchString(info), "builds info lacks the full cache summary:\n%s", info)
	t.Logf("builds info of the warm build:\n%s", info)

	convox(t, "rack", "params", "set", "BuildCacheCleanup=Yes", "BuildCacheRetentionDays=1")
	cacheTags, err := r.repos.Tags(ctx, "rack1-build-cache")
	require.NoError(t, err)
	appTags, err := r.repos.Tags(ctx, "demo")
	require.NoError(t, err)
	c.t = c.t.Add(48 * time.Hour)
	res, err := r.Sweep(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, res.Expired, "expired %v of cache tags %v", res.Expired, cacheTags)
	require.Len(t, res.Expired, len(cacheTags)-1, "expired %v of cache tags %v", res.Expired, cacheTags)
	left, err := r.repos.Tags(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.Equal(t, []string{"convox-repository"}, left, "cache tags after the sweep")
	left, err = r.repos.Tags(ctx, "demo")
	require.NoError(t, err)
	require.Len(t, left, 2, "app tags %v became %v", appTags, left)
	require.Equal(t, appTags, left, "app tags after the sweep")

	convox(t, "rack", "params", "set", "BuildCache=No")
	ok, err = r.repos.Exists(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.False(t, ok, "BuildCache=No left rack1-build-cache in the registry catalog")
	tags, err := r.repos.Tags(ctx, "rack1-build-cache")
	require.NoError(t, err)
	require.Empty(t, tags, "cache tags after BuildCache=No: %v", tags)
	out = convox(t, "rack", "params", "-g", "build")
	require.True(t, regexp.MustCompile(`BuildCache\s+No`).MatchString(out), "rack params:\n%s", out)
}
