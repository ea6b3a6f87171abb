package local

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convox/rack/internal/registry"
)

// registryGC frees the disk that deleted images and repositories leave in the
// embedded registry (BuildCache=No, expired cache images, deleted apps). It
// sweeps only while nothing pushes: builds and imports hold a push lease, and
// a sweep that cannot take the lock waits for the last lease to end.
type registryGC struct {
	dir     string
	log     io.Writer
	pushes  sync.RWMutex
	pending atomic.Bool
}

// lease marks a push in progress until release is called; a sweep requested
// meanwhile runs when the last lease ends.
func (g *registryGC) lease() (release func()) {
	g.pushes.RLock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.pushes.RUnlock()
			g.collect()
		})
	}
}

// request asks for a sweep: now if nothing pushes, else after the last push.
func (g *registryGC) request() {
	g.pending.Store(true)
	g.collect()
}

// collect sweeps if one is pending and no push holds a lease.
func (g *registryGC) collect() {
	if !g.pending.Load() || !g.pushes.TryLock() {
		return
	}
	defer g.pushes.Unlock()
	if !g.pending.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := registry.CollectGarbage(ctx, g.dir); err != nil {
		g.pending.Store(true) // try again after the next push
		fmt.Fprintf(g.log, "ns=local at=registry-gc error=%q\n", err)
	}
}
