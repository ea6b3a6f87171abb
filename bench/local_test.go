//go:build bench

package bench

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/require"
)

// localRack is a local rack building through the Docker engine, as `make run`
// starts it on a machine with an engine, and the convox CLI that talks to it.
type localRack struct {
	rack   *rackenv.Rack
	convox string
}

// localRound times `convox build` end to end on the local rack, from the
// upload to the completed build: cold (an empty cache repository) and warm
// (the same source on a fresh builder). BuildCache=No afterwards removes the
// cache repository and its images, so the next round starts cold again.
func (b *bencher) localRound(i int) {
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
	l := b.local
	l.params(b, "BuildCache=Yes", "BuildEphemeral=Yes")
	src := b.source("cached-deps", 0)
	b.time("local", "a", "cold", l.build(src))
	b.time("local", "a", "warm", l.build(src))
	l.params(b, "BuildCache=No")
}

// build is `convox build dir -a bench`, which uploads dir and waits for the build.
func (l *localRack) build(dir string) func() error {
	return func() error {
		args := []string{"build", dir, "-a", "bench"}
		for _, a := range buildArgs() {
			args = append(args, "--build-args", a)
		}
		return command(l.env(), l.convox, args...)
	}
}

// params is `convox rack params set`.
func (l *localRack) params(b *bencher, set ...string) {
	require.NoError(b.t, command(l.env(), l.convox, append([]string{"rack", "params", "set"}, set...)...))
}

func (l *localRack) env() []string {
	return append(os.Environ(), "RACK_URL="+l.rack.URL)
}
