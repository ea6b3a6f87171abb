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

	"github.com/convox/rack/internal/fargatetest"
	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/require"
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
		}{{"ec2", b.ec2Round}, {"fargate", b.fargateRound}, {"multi", b.multiRound}, {"stage", b.stageRound}, {"apps", b.multiAppRound}, {"local", b.localRound}, {"e2e", b.e2eRound}, {"export", b.exportRound}, {"lazy", b.lazyRound}} {
			only := os.Getenv("BENCH_ONLY")
			if only == "" && round.name != "export" && round.name != "lazy" || strings.Contains(only, round.name) {
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
	apps := func(method, scenario string) string { return Key(method, "apps", scenario) }
	res.AddRatio("ec2 multi-app second round/cold", apps("ec2", "second-round"), apps("ec2", "cold"), 0.03)
	res.AddRatio("fargate multi-app second round/cold", apps("fargate", "second-round"), apps("fargate", "cold"), 0.08)
	res.AddRatio("ec2 new app sharing a dependency stage/cold", apps("ec2", "new-app"), apps("ec2", "cold"), 0.1)
	res.AddRatio("fargate new app sharing a dependency stage/cold", apps("fargate", "new-app"), apps("fargate", "cold"), 0.1)
	for _, m := range []string{"ec2", "fargate"} {
		d := func(scenario string) string { return Key(m, "d", scenario) }
		if res.Medians[d("e2e-cold")] == 0 {
			continue // BENCH_E2E_METHODS left it out
		}
		res.AddRatio(m+" end to end fully cached/cold", d("e2e-fully-cached"), d("e2e-cold"), 0.08)
		res.AddRatio(m+" end to end source change/cold", d("e2e-source-change"), d("e2e-cold"), 0.25)
		res.AddRatio(m+" end to end ignored/cold", d("e2e-ignored"), d("e2e-cold"), 0.08)
		res.AddRatio(m+" end to end reused/cold", d("e2e-reused"), d("e2e-cold"), 0.03)
		for _, s := range e2eScenarios {
			res.AddPhases(d(s), b.phases[d(s)])
		}
	}

	var table bytes.Buffer
	res.WriteTable(&table)
	res.WritePhases(&table, phaseOrder)
	fmt.Print("\n" + table.String())
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = "results.json"
	}
	require.NoError(t, res.Save(out))
	require.NoError(t, os.WriteFile(strings.TrimSuffix(out, ".json")+".txt", table.Bytes(), 0o644))
}

// noEarlierBuilds is the rack as the fargate rows' build tasks see it: with
// no earlier build to reuse, since these rows measure the engines (in
// process, NoReuse says the same; a build task has no such option).
type noEarlierBuilds struct{ *memrack.Rack }

func (noEarlierBuilds) BuildList(string, structs.BuildListOptions) (structs.Builds, error) {
	return structs.Builds{}, nil
}

// bencher holds one registry, the runner image and the samples.
type bencher struct {
	t       *testing.T
	reg     *testenv.Registry
	rack    *memrack.Rack
	fargate *fargatetest.Runner // the strict fargate runner: ours and bare kaniko
	dc      string              // DOCKER_CONFIG with the registry login and the buildx plugin
	samples []*Sample
	index   map[string]*Sample
	n       int
	local   *localRack // started by the first local or e2e round
	phases  map[string][]map[string]float64
}

func newBencher(t *testing.T) *bencher {
	reg := testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, reg)
	dc := testenv.DockerConfig(t, reg)
	plugins := filepath.Join(dc, "cli-plugins")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	require.NoError(t, os.Symlink(testenv.Tool(t, "docker-buildx"), filepath.Join(plugins, "docker-buildx")))
	rack := memrack.New()
	return &bencher{t: t, reg: reg, rack: rack, fargate: fargatetest.New(t, noEarlierBuilds{rack}), dc: dc, index: map[string]*Sample{},
		phases: map[string][]map[string]float64{}}
}

// time runs f and records its duration under method/app/scenario.
func (b *bencher) time(method, app, scenario string, f func() error) {
	b.t.Helper()
	start := time.Now()
	require.NoError(b.t, f(), Key(method, app, scenario))
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
	src := ""
	if version > 0 {
		src = fmt.Sprintf("source change %d\n", version)
	}
	return b.variant(example, "", src)
}

// variant copies an example app and replaces its deps.txt and src/main.txt
// where given: another app with its own dependency stage or source.
func (b *bencher) variant(example, deps, src string) string {
	dir := filepath.Join(b.t.TempDir(), example)
	out, err := exec.Command("cp", "-a", filepath.Join(testenv.RepoRoot(), "examples", example), dir).CombinedOutput()
	require.NoError(b.t, err, "copying %s: %s", example, out)
	for path, body := range map[string]string{"deps.txt": deps, "src/main.txt": src} {
		if body == "" {
			continue
		}
		require.NoError(b.t, os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644))
	}
	return dir
}

// ours builds dir through pkg/build, the code cmd/build runs, on a fresh
// builder; the builder's daemon starts before the clock does, as a build
// host is up before a build task lands on it.
func (b *bencher) ours(method buildtask.Method, dir, cacheRepo string, cache, noCache bool) func() error {
	return b.oursApp(method, "bench", dir, cacheRepo, cache, noCache)
}

// oursApp is ours for one app of a multi-app rack.
func (b *bencher) oursApp(method buildtask.Method, app, dir, cacheRepo string, cache, noCache bool) func() error {
	var bk *testenv.BuildKit
	if method == buildtask.EC2 {
		bk = testenv.StartBuildKit(b.t, b.reg)
	}
	return func() error {
		b.n++
		id := fmt.Sprintf("B%d", b.n)
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
		opts := build.Options{Spec: buildtask.Spec{App: app, ID: id, URL: obj.Url, Push: b.reg.Host + "/bench", Auth: b.reg.AuthJSON(),
			Method: method, Cache: cache, CacheRepo: cacheRepo, CacheTTL: "30", NoCache: noCache, BuildArgs: buildArgs()},
			Engine:  engine.Config{Logins: logins, Mirror: b.reg.Host},
			NoReuse: true} // these rows measure the engines; the end to end rows measure reuse
		if bk != nil {
			defer bk.Stop()
			opts.Engine.DockerConfig = b.dc
			opts.Engine.BuildKitHost = bk.Addr
		}
		var logs bytes.Buffer
		run := func() error { return build.Run(context.Background(), b.rack, opts, &logs) }
		if bk == nil {
			// cmd/build in a fresh runc container, as on Fargate
			opts.Spec.Mirror = b.reg.Host
			run = func() error { return b.fargate.Run(context.Background(), opts.Spec, &logs) }
		}
		if err := run(); err != nil {
			return fmt.Errorf("%w\n%s", err, logs.String())
		}
		return nil
	}
}

// flags are the cache flags the product gives a build of app "bench", for the bare runs.
func flags(method buildtask.Method, repo string, cache, noCache bool, services ...string) []string {
	p := cachepolicy.Decide(cachepolicy.Input{Method: method, Cache: cache, Repo: repo, NoCache: noCache,
		Generation: 2, Buildx: true, TTL: "30"})
	if method == buildtask.Fargate {
		return p.KanikoFlags()
	}
	return p.BuildxFlags(cachepolicy.PlanRefs("bench", services, nil, nil))
}

// bareBuildx is plain `docker buildx build --push` on a fresh remote builder.
func (b *bencher) bareBuildx(dir string, cacheFlags []string) func() error {
	return b.bareBuildxOn(dir, cacheFlags)
}

// bareBuildxOn is bareBuildx on a builder started with the extra buildkitd flags bkArgs.
func (b *bencher) bareBuildxOn(dir string, cacheFlags []string, bkArgs ...string) func() error {
	bk := testenv.StartBuildKit(b.t, b.reg, bkArgs...)
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

// bareKaniko is the kaniko executor in a fresh container of the strict
// fargate runner (the same rootfs and spec as ours), the source and the
// registry login copied in: one run, no cleanup, as ours on its last run.
func (b *bencher) bareKaniko(dir string, cacheFlags []string) func() error {
	return func() error {
		b.n++
		const work = "/workspace/bare"
		args := []string{"/kaniko/executor",
			"--dockerfile", work + "/Dockerfile", "--context", "dir://" + work, "--ignore-path=" + work, "--ignore-path=/busybox",
			"--destination", fmt.Sprintf("%s/bare:%d", b.reg.Host, b.n),
			"--registry-mirror", b.reg.Host, "--insecure-registry", b.reg.Host}
		for _, a := range buildArgs() {
			args = append(args, "--build-arg", a)
		}
		// the flags the product adds to the policy's
		args = append(append(args, cacheFlags...), engine.KanikoFlags(cacheFlags)...)
		var out bytes.Buffer
		copies := map[string]string{dir: work, filepath.Join(b.dc, "config.json"): "/kaniko/.docker/config.json"}
		if err := b.fargate.Exec(context.Background(), fmt.Sprintf("bare-%d", b.n), args, copies, &out); err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		return nil
	}
}

func (b *bencher) ec2Round(i int) {
	const m = buildtask.EC2
	repo := fmt.Sprintf("%s/cache-ec2-%d", b.reg.Host, i)
	src, changed := b.source("cached-deps", 0), b.source("cached-deps", i+1)
	b.time(string(m), "a", "cold", b.ours(m, src, repo, true, false))
	b.time(string(m), "a", "warm", b.ours(m, src, repo, true, false))
	b.time(string(m), "a", "source-change", b.ours(m, changed, repo, true, false))
	b.time(string(m), "a", "no-cache", b.ours(m, src, repo, true, true))
	b.time(string(m), "a", "cold-no-export", b.ours(m, src, "", false, false))
	b.time(string(m), "a", "bare-plain-cold", b.bareBuildx(src, nil))
	bare := fmt.Sprintf("%s/bare-cache-ec2-%d", b.reg.Host, i)
	b.time(string(m), "a", "bare-cache-cold", b.bareBuildx(src, flags(m, bare, true, false, "web")))
	b.time(string(m), "a", "bare-cache-warm", b.bareBuildx(src, flags(m, bare, true, false, "web")))
	b.time(string(m), "a", "bare-cache-source-change", b.bareBuildx(changed, flags(m, bare, true, false, "web")))
}

func (b *bencher) fargateRound(i int) {
	const m = buildtask.Fargate
	repo := fmt.Sprintf("%s/cache-fargate-%d", b.reg.Host, i)
	src, changed := b.source("cached-deps", 0), b.source("cached-deps", i+1)
	b.time(string(m), "a", "cold", b.ours(m, src, repo, true, false))
	b.time(string(m), "a", "warm", b.ours(m, src, repo, true, false))
	b.time(string(m), "a", "source-change", b.ours(m, changed, repo, true, false))
	b.time(string(m), "a", "no-cache", b.ours(m, src, repo, true, true))
	b.time(string(m), "a", "bare-plain-cold", b.bareKaniko(src, nil))
	bare := fmt.Sprintf("%s/bare-cache-fargate-%d", b.reg.Host, i)
	b.time(string(m), "a", "bare-cache-cold", b.bareKaniko(src, flags(m, bare, true, false)))
	b.time(string(m), "a", "bare-cache-warm", b.bareKaniko(src, flags(m, bare, true, false)))
	b.time(string(m), "a", "bare-cache-source-change", b.bareKaniko(changed, flags(m, bare, true, false)))
}

func (b *bencher) multiRound(i int) {
	const m = buildtask.EC2
	b.time(string(m), "b", "cold", b.ours(m, b.source("multi", 0), fmt.Sprintf("%s/cache-multi-%d", b.reg.Host, i), true, false))
}

// stageRound (app c, examples/multistage: a debian builder stage, an unused
// development stage, then COPY --from) on both methods, beside bare buildx
// and bare kaniko with the same flags.
func (b *bencher) stageRound(i int) {
	src, changed := b.source("multistage", 0), b.source("multistage", i+1)
	for _, m := range buildtask.Methods {
		repo := fmt.Sprintf("%s/cache-stage-%s-%d", b.reg.Host, m, i)
		b.time(string(m), "c", "cold", b.ours(m, src, repo, true, false))
		b.time(string(m), "c", "warm", b.ours(m, src, repo, true, false))
		b.time(string(m), "c", "source-change", b.ours(m, changed, repo, true, false))
		bare := fmt.Sprintf("%s/bare-cache-stage-%s-%d", b.reg.Host, m, i)
		run := b.bareBuildx
		if m == buildtask.Fargate {
			run = b.bareKaniko
		}
		b.time(string(m), "c", "bare-cache-cold", run(src, flags(m, bare, true, false, "web")))
		b.time(string(m), "c", "bare-cache-warm", run(src, flags(m, bare, true, false, "web")))
		b.time(string(m), "c", "bare-cache-source-change", run(changed, flags(m, bare, true, false, "web")))
	}
}

// multiAppRound is a rack of three apps with their own dependency stages,
// built round-robin twice on each method (every build on a fresh builder),
// then a fourth app with the first app's dependencies and its own source.
func (b *bencher) multiAppRound(i int) {
	for _, m := range buildtask.Methods {
		repo := fmt.Sprintf("%s/cache-apps-%s-%d", b.reg.Host, m, i)
		apps := []string{"alpha", "beta", "gamma"}
		dirs := map[string]string{}
		for _, a := range apps {
			dirs[a] = b.variant("cached-deps", fmt.Sprintf("dependencies of %s, round %d\n", a, i), "")
		}
		for round, scenario := range []string{"cold", "second-round"} {
			for _, a := range apps {
				b.t.Logf("multi-app %s round %d: %s", m, round+1, a)
				b.time(string(m), "apps", scenario, b.oursApp(m, a, dirs[a], repo, true, false))
			}
		}
		newcomer := b.variant("cached-deps", fmt.Sprintf("dependencies of %s, round %d\n", apps[0], i), "the new app's source\n")
		b.time(string(m), "apps", "new-app", b.oursApp(m, "delta", newcomer, repo, true, false))
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
	const m = buildtask.EC2
	src := b.source("cached-deps", 0)
	b.time(string(m), "a", "bare-plain-cold", b.bareBuildx(src, nil))
	estargz := flags(m, fmt.Sprintf("%s/export-estargz-%d", b.reg.Host, i), true, false, "web")
	b.time(string(m), "a", "bare-cache-cold", b.bareBuildx(src, estargz))
	gzip := make([]string, len(estargz))
	for j, f := range estargz {
		gzip[j] = strings.Replace(strings.Replace(f, "compression=estargz", "compression=gzip", 1), "export-estargz", "export-gzip", 1)
	}
	b.time(string(m), "a", "bare-cache-cold-gzip", b.bareBuildx(src, gzip))
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
