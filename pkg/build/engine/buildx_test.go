package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build/cachepolicy"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeApp(t *testing.T, dockerfile string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	return dir
}

// TestBuildxRemoteCacheAcrossFreshBuilders builds on one BuildKit, then on a
// brand-new one: every step of the second build comes from the registry cache.
func TestBuildxRemoteCacheAcrossFreshBuilders(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	testenv.Tool(t, "docker")
	reg := testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, reg)
	logins, err := ParseAuth(reg.AuthJSON())
	require.NoError(t, err)
	dir := writeApp(t, "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n")
	repo := reg.Host + "/cache"
	policy := cachepolicy.Decide(cachepolicy.Input{Method: "ec2", Cache: true, Repo: repo, Generation: 2, Buildx: true})
	req := Request{Services: []string{"web"}, Root: dir, Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tags: []string{reg.Host + "/app:web.B1"}, Policy: policy, CacheRefs: cachepolicy.PlanRefs("app", []string{"web"}, nil, nil)}

	var results []Result
	var logs []string
	for i := 0; i < 2; i++ {
		bk := testenv.StartBuildKit(t, reg)
		cfg := Config{DockerConfig: testenv.DockerConfigWithBuildx(t), BuildKitHost: bk.Addr, Logins: logins}
		var out bytes.Buffer
		eng, buildx, err := NewEC2(context.Background(), cfg, []string{repo}, &out)
		require.NoError(t, err, "NewEC2:\n%s", out.String())
		require.True(t, buildx, "NewEC2: no buildx\n%s", out.String())
		res, err := eng.Build(context.Background(), req, &out)
		eng.Close()
		bk.Stop()
		require.NoError(t, err, "build %d:\n%s", i, out.String())
		results = append(results, res)
		logs = append(logs, out.String())
	}
	t.Logf("first: %+v second: %+v\n%s", results[0], results[1], logs[1])
	assert.Equal(t, 2, results[0].Steps, "first build: want 2 RUN steps")
	assert.Equal(t, 2, results[1].Steps, "second build: want 2 RUN steps")
	assert.Equal(t, results[1].Steps, results[1].Cached, "fresh builder reused %d of %d steps", results[1].Cached, results[1].Steps)
	if strings.Contains(logs[1], "RUN echo one") {
		assert.Contains(t, logs[1], "CACHED", "second log shows no CACHED step")
	}
}
