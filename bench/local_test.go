//go:build bench

package bench

import (
	"fmt"
	"os"

	"github.com/convox/rack/internal/testenv"
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
// (the same steps on a fresh builder). BuildCache=No afterwards removes the
// cache repository and its images, so the next round starts cold again. Each
// build has a file no step reads with its own note, so its inputs differ from
// every earlier build's and the rack builds it rather than reusing one whole
// (the e2e rows measure that).
func (b *bencher) localRound(i int) {
	l := b.localRack()
	l.params(b, "BuildMethod=ec2", "BuildCache=Yes", "BuildEphemeral=Yes")
	src := b.source("cached-deps", 0)
	b.time("local", "a", "cold", l.build(testenv.Touched(b.t, src, fmt.Sprintf("cold %d", i))))
	b.time("local", "a", "warm", l.build(testenv.Touched(b.t, src, fmt.Sprintf("warm %d", i))))
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
