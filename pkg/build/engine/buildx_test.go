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
)

func writeApp(t *testing.T, dockerfile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
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
	logins, _ := ParseAuth(reg.AuthJSON())
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
		if err != nil || !buildx {
			t.Fatalf("NewEC2: buildx=%v %v\n%s", buildx, err, out.String())
		}
		res, err := eng.Build(context.Background(), req, &out)
		eng.Close()
		bk.Stop()
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, out.String())
		}
		results = append(results, res)
		logs = append(logs, out.String())
	}
	t.Logf("first: %+v second: %+v\n%s", results[0], results[1], logs[1])
	if results[0].Steps != 2 || results[1].Steps != 2 {
		t.Errorf("steps = %d, %d; want 2 RUN steps", results[0].Steps, results[1].Steps)
	}
	if results[1].Cached != results[1].Steps {
		t.Errorf("fresh builder reused %d of %d steps", results[1].Cached, results[1].Steps)
	}
	if strings.Contains(logs[1], "RUN echo one") && !strings.Contains(logs[1], "CACHED") {
		t.Error("second log shows no CACHED step")
	}
}
