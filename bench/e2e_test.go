//go:build bench

package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/require"
)

// e2eScenarios are the end to end rows of app d (examples/shop), in order.
var e2eScenarios = []string{"e2e-cold", "e2e-fully-cached", "e2e-source-change", "e2e-build-arg", "e2e-ignored", "e2e-reused"}

// e2eRound builds app d (examples/shop: a debian base, a 20 MB dependency
// layer, two services, a .dockerignore) end to end through the CLI on the
// local rack, each build on a fresh builder (BuildEphemeral=Yes; a fresh
// kaniko container on fargate), on both methods:
//   - cold: a new app on an empty cache repository;
//   - fully cached: convox.yml changed (no step reads it): other inputs, every step cached;
//   - source change: src/main.txt changed;
//   - build arg: the same source with RELEASE_CHANNEL=beta;
//   - ignored: a file .dockerignore excludes changed: the build before is reused;
//   - reused: the same source and args again.
//
// BuildCache=No afterwards deletes the cache repository, so the next round starts cold.
// BENCH_E2E_METHODS limits the methods (e.g. "ec2").
func (b *bencher) e2eRound(i int) {
	l := b.localRack()
	methods := []string{"ec2", "fargate"}
	if v := os.Getenv("BENCH_E2E_METHODS"); v != "" {
		methods = strings.Fields(v)
	}
	for _, m := range methods {
		app := fmt.Sprintf("shop-%s-%d", m, i)
		require.NoError(b.t, command(l.env(), l.convox, "apps", "create", app))
		l.params(b, "BuildMethod="+m, "BuildCache=Yes", "BuildEphemeral=Yes")
		dir := b.variant("shop", "", "")
		write := func(path, body string) {
			require.NoError(b.t, os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644))
		}
		manifest, err := os.ReadFile(filepath.Join(dir, "convox.yml"))
		require.NoError(b.t, err)
		steps := []struct {
			scenario string
			change   func()
			args     []string
		}{
			{"e2e-cold", func() {}, nil},
			{"e2e-fully-cached", func() { write("convox.yml", string(manifest)+"# round "+fmt.Sprint(i)+"\n") }, nil},
			{"e2e-source-change", func() { write("src/main.txt", fmt.Sprintf("the app source, changed in round %d\n", i)) }, nil},
			{"e2e-build-arg", func() {}, []string{"RELEASE_CHANNEL=beta"}},
			{"e2e-ignored", func() { write("tmp/scratch.log", fmt.Sprintf("scratch of round %d\n", i)) }, []string{"RELEASE_CHANNEL=beta"}},
			{"e2e-reused", func() {}, []string{"RELEASE_CHANNEL=beta"}},
		}
		for _, s := range steps {
			s.change()
			b.timePhases(m, "d", s.scenario, l.buildApp(app, dir, s.args...))
		}
		l.params(b, "BuildCache=No")
	}
}

// localRack starts the local rack and builds the CLI once.
func (b *bencher) localRack() *localRack {
	if b.local == nil {
		bin := filepath.Join(b.t.TempDir(), "convox")
		build := exec.Command("go", "build", "-o", bin, "./cmd/convox")
		build.Dir = testenv.RepoRoot()
		out, err := build.CombinedOutput()
		require.NoError(b.t, err, "go build ./cmd/convox:\n%s", out)
		r := rackenv.Start(b.t, rackenv.Options{Engine: true})
		_, err = r.Client.AppCreate("bench", structs.AppCreateOptions{})
		require.NoError(b.t, err)
		b.local = &localRack{rack: r, convox: bin}
	}
	return b.local
}

// buildApp is `convox build dir -a app`, its output timed line by line into phases.
func (l *localRack) buildApp(app, dir string, args ...string) func() (map[string]float64, error) {
	return func() (map[string]float64, error) {
		cli := []string{"build", dir, "-a", app}
		for _, a := range append(buildArgs(), args...) {
			cli = append(cli, "--build-args", a)
		}
		start := time.Now()
		cmd := exec.Command(l.convox, cli...)
		cmd.Env = l.env()
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		clock := newPhaseClock(start)
		var out bytes.Buffer
		read := make(chan struct{})
		go func() { clock.read(pr, &out); close(read) }()
		err := cmd.Run()
		pw.Close()
		<-read
		phases := clock.done(time.Now())
		if err != nil {
			return nil, fmt.Errorf("convox build: %w\n%s", err, out.String())
		}
		if os.Getenv("BENCH_VERBOSE") != "" {
			fmt.Print(out.String())
		}
		return phases, nil
	}
}

// timePhases is time for a build that also reports its phases.
func (b *bencher) timePhases(method, app, scenario string, f func() (map[string]float64, error)) {
	b.t.Helper()
	var phases map[string]float64
	b.time(method, app, scenario, func() error {
		var err error
		phases, err = f()
		return err
	})
	key := Key(method, app, scenario)
	b.phases[key] = append(b.phases[key], phases)
	var parts []string
	for _, p := range phaseOrder {
		if v, ok := phases[p]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", p, v))
		}
	}
	b.t.Logf("%-40s phases: %s", key, strings.Join(parts, ", "))
}
