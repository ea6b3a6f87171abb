//go:build bench

package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
)

// TestBench runs every scenario BENCH_RUNS times (default 3), each build on a
// fresh builder, prints the table and writes results.json.
func TestBench(t *testing.T) {
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	b := newBencher(t)
	for i := 0; i < runs; i++ {
		t.Logf("round %d of %d", i+1, runs)
		for _, round := range []struct {
			name string
			run  func(int)
		}{{"ec2", b.ec2Round}, {"fargate", b.fargateRound}, {"multi", b.multiRound}, {"stage", b.stageRound}, {"local", b.localRound}, {"export", b.exportRound}} {
			only := os.Getenv("BENCH_ONLY")
			if only == "" && round.name != "export" || strings.Contains(only, round.name) {
				round.run(i)
			}
		}
	}
	res := NewResults(machine(), runs, b.samples)
	a := func(method, scenario string) string { return Key(method, "a", scenario) }
	res.AddRatio("ec2 warm/cold", a("ec2", "warm"), a("ec2", "cold"), 0.03)
	res.AddRatio("ec2 source-change/cold", a("ec2", "source-change"), a("ec2", "cold"), 0.05)
	res.AddRatio("fargate warm/kaniko cold", a("fargate", "warm"), a("fargate", "bare-plain-cold"), 0.08)
	res.AddRatio("ec2 ours/bare cold", a("ec2", "cold"), a("ec2", "bare-cache-cold"), 1.05)
	res.AddRatio("ec2 ours/bare warm", a("ec2", "warm"), a("ec2", "bare-cache-warm"), 2)
	res.AddRatio("fargate ours/bare cold", a("fargate", "cold"), a("fargate", "bare-cache-cold"), 1.05)
	res.AddRatio("fargate ours/bare warm", a("fargate", "warm"), a("fargate", "bare-cache-warm"), 2)
	res.AddRatio("ec2 source-change ours/bare", a("ec2", "source-change"), a("ec2", "bare-cache-source-change"), 2)
	res.AddRatio("fargate source-change ours/bare", a("fargate", "source-change"), a("fargate", "bare-cache-source-change"), 2)
	res.AddRatio("ec2 cold export/no export", a("ec2", "cold"), a("ec2", "cold-no-export"), 1.05)
	res.AddRatio("ec2 app b cold/app a cold", Key("ec2", "b", "cold"), a("ec2", "cold"), 1.3)
	c := func(method, scenario string) string { return Key(method, "c", scenario) }
	res.AddRatio("ec2 multistage warm/cold", c("ec2", "warm"), c("ec2", "cold"), 0.1)
	res.AddRatio("fargate multistage warm/cold", c("fargate", "warm"), c("fargate", "cold"), 0.3)
	res.AddRatio("ec2 multistage ours/bare warm", c("ec2", "warm"), c("ec2", "bare-cache-warm"), 2)
	res.AddRatio("fargate multistage ours/bare warm", c("fargate", "warm"), c("fargate", "bare-cache-warm"), 2)
	res.AddRatio("local rack warm/cold (end to end)", a("local", "warm"), a("local", "cold"), 0.15)

	var table bytes.Buffer
	res.WriteTable(&table)
	fmt.Print("\n" + table.String())
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = "results.json"
	}
	if err := res.Save(out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(out, ".json")+".txt", table.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bencher holds one registry, the runner image and the samples.
type bencher struct {
	t       *testing.T
	reg     *testenv.Registry
	rack    *memrack.Rack
	kaniko  string
	dc      string // DOCKER_CONFIG with the registry login and the buildx plugin
	samples []*Sample
	index   map[string]*Sample
	n       int
	local   *localRack // started by the first local round
}

func newBencher(t *testing.T) *bencher {
	reg := testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, reg)
	dc := testenv.DockerConfig(t, reg)
	plugins := filepath.Join(dc, "cli-plugins")
	os.MkdirAll(plugins, 0o755)
	if err := os.Symlink(testenv.Tool(t, "docker-buildx"), filepath.Join(plugins, "docker-buildx")); err != nil {
		t.Fatal(err)
	}
	return &bencher{t: t, reg: reg, rack: memrack.New(), kaniko: testenv.KanikoImage(t), dc: dc, index: map[string]*Sample{}}
}

// time runs f and records its duration under method/app/scenario.
func (b *bencher) time(method, app, scenario string, f func() error) {
	b.t.Helper()
	start := time.Now()
	if err := f(); err != nil {
		b.t.Fatalf("%s: %v", Key(method, app, scenario), err)
	}
	d := time.Since(start)
	key := Key(method, app, scenario)
	s, ok := b.index[key]
	if !ok {
		s = &Sample{Method: method, App: app, Scenario: scenario}
		b.index[key] = s
		b.samples = append(b.samples, s)
	}
	s.Add(d)
	b.t.Logf("%-40s %6.2fs", key, d.Seconds())
}

// source copies an example app to a fresh directory; version changes its source stage.
func (b *bencher) source(example string, version int) string {
	dir := filepath.Join(b.t.TempDir(), example)
	if out, err := exec.Command("cp", "-a", filepath.Join(testenv.RepoRoot(), "examples", example), dir).CombinedOutput(); err != nil {
		b.t.Fatalf("copying %s: %v: %s", example, err, out)
	}
	if version > 0 {
		main := filepath.Join(dir, "src", "main.txt")
		if err := os.WriteFile(main, []byte(fmt.Sprintf("source change %d\n", version)), 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	return dir
}

// ours builds dir through pkg/build, the code cmd/build runs, on a fresh
// builder; the builder's daemon starts before the clock does, as a build
// host is up before a build task lands on it.
func (b *bencher) ours(method, dir, cacheRepo string, cache, noCache bool) func() error {
	var bk *testenv.BuildKit
	if method == cachepolicy.MethodEC2 {
		bk = testenv.StartBuildKit(b.t, b.reg)
	}
	return func() error {
		b.n++
		app, id := "bench", fmt.Sprintf("B%d", b.n)
		var src bytes.Buffer
		if err := tarball.Create(dir, &src, nil); err != nil {
			return err
		}
		obj, err := b.rack.ObjectStore(app, "tmp/"+id+".tgz", &src, structs.ObjectStoreOptions{})
		if err != nil {
			return err
		}
		b.rack.AddBuild(app, id)
		logins, err := engine.ParseAuth(b.reg.AuthJSON())
		if err != nil {
			return err
		}
		opts := build.Options{App: app, Id: id, Url: obj.Url, Push: b.reg.Host + "/bench", Auth: b.reg.AuthJSON(),
			Method: method, Cache: cache, CacheRepo: cacheRepo, CacheTTL: "30", NoCache: noCache, BuildArgs: buildArgs(),
			Engine: engine.Config{Logins: logins, Mirror: b.reg.Host}}
		if bk != nil {
			defer bk.Stop()
			opts.Engine.DockerConfig = b.dc
			opts.Engine.BuildKitHost = bk.Addr
		} else {
			opts.Engine.KanikoImage = b.kaniko
			opts.WorkDir = b.t.TempDir()
		}
		var logs bytes.Buffer
		if err := build.Run(context.Background(), b.rack, opts, &logs); err != nil {
			return fmt.Errorf("%w\n%s", err, logs.String())
		}
		return nil
	}
}

// flags are the cache flags the product gives this build, for the bare runs.
func flags(method, repo string, cache, noCache bool, services ...string) []string {
	p := cachepolicy.Decide(cachepolicy.Input{Method: method, Cache: cache, Repo: repo, NoCache: noCache,
		Generation: 2, Buildx: true, TTL: "30"})
	if method == cachepolicy.MethodFargate {
		return p.KanikoFlags()
	}
	return p.BuildxFlags(services...)
}

// bareBuildx is plain `docker buildx build --push` on a fresh remote builder.
func (b *bencher) bareBuildx(dir string, cacheFlags []string) func() error {
	bk := testenv.StartBuildKit(b.t, b.reg)
	return func() error {
		b.n++
		defer bk.Stop()
		builder := fmt.Sprintf("bench-%d-%d", os.Getpid(), b.n)
		env := append(os.Environ(), "DOCKER_CONFIG="+b.dc)
		if err := command(env, "docker", "buildx", "create", "--name", builder, "--driver", "remote", bk.Addr); err != nil {
			return err
		}
		defer command(env, "docker", "buildx", "rm", "--force", builder)
		args := []string{"buildx", "build", "--builder", builder, "--progress", "plain", "--push",
			"-t", fmt.Sprintf("%s/bare:%d", b.reg.Host, b.n)}
		for _, a := range buildArgs() {
			args = append(args, "--build-arg", a)
		}
		args = append(append(args, cacheFlags...), dir)
		return command(env, "docker", args...)
	}
}

// bareKaniko is the kaniko executor in a fresh `docker run` of the runner image.
func (b *bencher) bareKaniko(dir string, cacheFlags []string) func() error {
	return func() error {
		b.n++
		args := []string{"run", "--rm", "--network", "host", "-v", dir + ":/workspace",
			"-v", b.dc + ":/kaniko/.docker:ro", "-e", "DOCKER_CONFIG=/kaniko/.docker",
			"--entrypoint", "/kaniko/executor", b.kaniko,
			"--dockerfile", "/workspace/Dockerfile", "--context", "dir:///workspace", "--cleanup", "--ignore-path=/busybox",
			"--destination", fmt.Sprintf("%s/bare:%d", b.reg.Host, b.n),
			"--registry-mirror", b.reg.Host, "--insecure-registry", b.reg.Host, "--insecure", "--insecure-pull"}
		for _, a := range buildArgs() {
			args = append(args, "--build-arg", a)
		}
		// the flags the product adds to the policy's
		args = append(append(args, cacheFlags...), engine.KanikoFlags(cacheFlags)...)
		return command(os.Environ(), "docker", args...)
	}
}

func (b *bencher) ec2Round(i int) {
	const m = cachepolicy.MethodEC2
	repo := fmt.Sprintf("%s/cache-ec2-%d", b.reg.Host, i)
	src, changed := b.source("cached-deps", 0), b.source("cached-deps", i+1)
	b.time(m, "a", "cold", b.ours(m, src, repo, true, false))
	b.time(m, "a", "warm", b.ours(m, src, repo, true, false))
	b.time(m, "a", "source-change", b.ours(m, changed, repo, true, false))
	b.time(m, "a", "no-cache", b.ours(m, src, repo, true, true))
	b.time(m, "a", "cold-no-export", b.ours(m, src, "", false, false))
	b.time(m, "a", "bare-plain-cold", b.bareBuildx(src, nil))
	bare := fmt.Sprintf("%s/bare-cache-ec2-%d", b.reg.Host, i)
	b.time(m, "a", "bare-cache-cold", b.bareBuildx(src, flags(m, bare, true, false, "web")))
	b.time(m, "a", "bare-cache-warm", b.bareBuildx(src, flags(m, bare, true, false, "web")))
	b.time(m, "a", "bare-cache-source-change", b.bareBuildx(changed, flags(m, bare, true, false, "web")))
}

func (b *bencher) fargateRound(i int) {
	const m = cachepolicy.MethodFargate
	repo := fmt.Sprintf("%s/cache-fargate-%d", b.reg.Host, i)
	src, changed := b.source("cached-deps", 0), b.source("cached-deps", i+1)
	b.time(m, "a", "cold", b.ours(m, src, repo, true, false))
	b.time(m, "a", "warm", b.ours(m, src, repo, true, false))
	b.time(m, "a", "source-change", b.ours(m, changed, repo, true, false))
	b.time(m, "a", "no-cache", b.ours(m, src, repo, true, true))
	b.time(m, "a", "bare-plain-cold", b.bareKaniko(src, nil))
	bare := fmt.Sprintf("%s/bare-cache-fargate-%d", b.reg.Host, i)
	b.time(m, "a", "bare-cache-cold", b.bareKaniko(src, flags(m, bare, true, false)))
	b.time(m, "a", "bare-cache-warm", b.bareKaniko(src, flags(m, bare, true, false)))
	b.time(m, "a", "bare-cache-source-change", b.bareKaniko(changed, flags(m, bare, true, false)))
}

func (b *bencher) multiRound(i int) {
	const m = cachepolicy.MethodEC2
	b.time(m, "b", "cold", b.ours(m, b.source("multi", 0), fmt.Sprintf("%s/cache-multi-%d", b.reg.Host, i), true, false))
}

// stageRound (app c, examples/multistage: a debian builder stage, an unused
// development stage, then COPY --from) on both methods, beside bare buildx
// and bare kaniko with the same flags.
func (b *bencher) stageRound(i int) {
	src, changed := b.source("multistage", 0), b.source("multistage", i+1)
	for _, m := range []string{cachepolicy.MethodEC2, cachepolicy.MethodFargate} {
		repo := fmt.Sprintf("%s/cache-stage-%s-%d", b.reg.Host, m, i)
		b.time(m, "c", "cold", b.ours(m, src, repo, true, false))
		b.time(m, "c", "warm", b.ours(m, src, repo, true, false))
		b.time(m, "c", "source-change", b.ours(m, changed, repo, true, false))
		bare := fmt.Sprintf("%s/bare-cache-stage-%s-%d", b.reg.Host, m, i)
		run := b.bareBuildx
		if m == cachepolicy.MethodFargate {
			run = b.bareKaniko
		}
		b.time(m, "c", "bare-cache-cold", run(src, flags(m, bare, true, false, "web")))
		b.time(m, "c", "bare-cache-warm", run(src, flags(m, bare, true, false, "web")))
		b.time(m, "c", "bare-cache-source-change", run(changed, flags(m, bare, true, false, "web")))
	}
}

// buildArgs shrinks the dependency stage for a quick check (BENCH_WORK_MB);
// the recorded figures use the examples' own default.
func buildArgs() []string {
	if mb := os.Getenv("BENCH_WORK_MB"); mb != "" {
		return []string{"DEPS_WORK_MB=" + mb}
	}
	return nil
}

// exportRound (BENCH_ONLY=export) splits the cost of exporting the cache on
// a cold ec2 build: no export, the product's estargz export, and gzip.
func (b *bencher) exportRound(i int) {
	const m = cachepolicy.MethodEC2
	src := b.source("cached-deps", 0)
	b.time(m, "a", "bare-plain-cold", b.bareBuildx(src, nil))
	estargz := flags(m, fmt.Sprintf("%s/export-estargz-%d", b.reg.Host, i), true, false, "web")
	b.time(m, "a", "bare-cache-cold", b.bareBuildx(src, estargz))
	gzip := make([]string, len(estargz))
	for j, f := range estargz {
		gzip[j] = strings.Replace(strings.Replace(f, "compression=estargz", "compression=gzip", 1), "export-estargz", "export-gzip", 1)
	}
	b.time(m, "a", "bare-cache-cold-gzip", b.bareBuildx(src, gzip))
}

func command(env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args[:min(3, len(args))], " "), err, out)
	}
	return nil
}

// machine names the machine the figures came from.
func machine() string {
	host, _ := os.Hostname()
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(data), "\n", 2)[0])[1] + " kB"
	}
	return fmt.Sprintf("%s/%s, %d cores, %s memory, %s, host %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), mem, runtime.Version(), host)
}
