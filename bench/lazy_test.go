//go:build bench

package bench

import (
	"fmt"

	"github.com/convox/rack/pkg/buildtask"
)

// lazyRound (BENCH_ONLY=lazy, not part of the default run) measures lazy
// pulling on ec2: app d built cold with the product's cache flags (estargz
// layers), then a source change on a fresh builder with BuildKit's default
// snapshotter and one on a fresh builder with the stargz snapshotter, which
// fetches the cached layers' files as they are read instead of unpacking them.
func (b *bencher) lazyRound(i int) {
	const m = buildtask.EC2
	repo := fmt.Sprintf("%s/lazy-%d", b.reg.Host, i)
	cache := flags(m, repo, true, false, "web")
	b.time(string(m), "d", "lazy-cold", b.bareBuildx(b.variant("shop", "", ""), cache))
	b.time(string(m), "d", "lazy-source-change-overlayfs", b.bareBuildx(b.variant("shop", "", fmt.Sprintf("change a %d\n", i)), cache))
	b.time(string(m), "d", "lazy-source-change-stargz", b.bareBuildxOn(b.variant("shop", "", fmt.Sprintf("change b %d\n", i)), cache,
		"--oci-worker-snapshotter=stargz"))
}
