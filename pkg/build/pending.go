package build

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/build/engine"
)

// pendingEngine is the build's engine starting in the background while the
// source is fetched and read: on an ec2 host that is the builder booting
// (container, BuildKit), which no longer waits for the fetch. Its output is
// held until the build waits for it, so the log stays in order.
type pendingEngine struct {
	done    chan struct{}
	cancel  context.CancelFunc
	started time.Time
	out     lockedBuffer
	eng     engine.Engine
	buildx  bool
	err     error
}

// startEngine starts the engine the build's settings call for: what
// buildAll would start, as the cache policy before the build decides it.
func (b *builder) startEngine(ctx context.Context) *pendingEngine {
	ctx, cancel := context.WithCancel(ctx)
	p := &pendingEngine{done: make(chan struct{}), cancel: cancel, started: time.Now()}
	go func() {
		defer close(p.done)
		cfg, in, err := b.engineInput()
		if err != nil {
			p.err = err
			return
		}
		p.eng, p.buildx, p.err = b.engine(ctx, cfg, cachepolicy.Decide(in).Persistent, &p.out)
	}()
	return p
}

// wait is the started engine, once it is ready; its output goes to out.
func (p *pendingEngine) wait(out io.Writer) (engine.Engine, bool, error) {
	select {
	case <-p.done:
	default:
		fmt.Fprintf(out, "Waiting for the builder (starting since %.1fs ago, while the source was fetched)\n", time.Since(p.started).Seconds())
		<-p.done
	}
	out.Write(p.out.Bytes())
	return p.eng, p.buildx, p.err
}

// discard stops an engine the build does not need (it reused an earlier
// build, or failed before building): a start under way is canceled.
func (p *pendingEngine) discard() {
	p.cancel()
	<-p.done
	if p.eng != nil {
		p.eng.Close()
	}
}

// engineInput is the engine configuration with every login of the build,
// and the cache policy's input before the engine is known.
func (b *builder) engineInput() (engine.Config, cachepolicy.Input, error) {
	cfg := b.opts.Engine
	logins, err := engine.ParseAuth(b.opts.Auth)
	if err != nil {
		return cfg, cachepolicy.Input{}, err
	}
	cfg.Logins = mergeLogins(cfg.Logins, logins)
	in := cachepolicy.Input{Method: b.opts.Method, Cache: b.opts.Cache, Repo: b.opts.CacheRepo, NoCache: b.opts.NoCache,
		Generation: b.opts.Generation, Buildx: true, TTL: b.opts.CacheTTL, BuildArgs: b.opts.BuildArgs}
	return cfg, in, nil
}
