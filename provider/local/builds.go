package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local/builder"
	"github.com/convox/rack/provider/local/buildlog"
	"github.com/convox/rack/provider/local/janitor"
	"github.com/convox/rack/provider/local/objects"
)

// BuildCreate records a build and starts it; it runs in the background.
func (p *Provider) BuildCreate(app, url string, opts structs.BuildCreateOptions) (*structs.Build, error) {
	a, err := p.store.AppGet(app)
	if err != nil {
		return nil, err
	}
	srcApp, key, err := objects.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if ok, err := p.objects.Exists(srcApp, key); err != nil || !ok {
		return nil, fmt.Errorf("source %s not found: %w", url, structs.ErrNotFound)
	}
	ps, err := p.parameters()
	if err != nil {
		return nil, err
	}
	b := structs.Build{
		Id: id("B"), App: app, Status: structs.BuildStatusCreated, Started: p.opts.Now().UTC(),
		Description: deref(opts.Description), GitSha: deref(opts.GitSha),
		Repository:     p.registry.Host() + "/" + app,
		WildcardDomain: opts.WildcardDomain != nil && *opts.WildcardDomain,
	}
	runner, err := p.builds.runner(ps)
	if err != nil {
		return nil, err
	}
	spec, err := p.taskSpec(a, b.Id, url, opts, ps)
	if err != nil {
		return nil, err
	}
	task := builder.Task{ID: b.Id, Env: spec.Environ(), Args: spec.Args()}
	if err := p.store.BuildPut(b); err != nil {
		return nil, err
	}
	if err := p.builds.start(b, runner, task); err != nil {
		return nil, err
	}
	return &b, nil
}

// taskSpec is the build-task contract of one build, exactly as an ECS build
// task gets it, plus the registry mirror a rack without Docker Hub access needs.
func (p *Provider) taskSpec(a *structs.App, build, url string, opts structs.BuildCreateOptions, ps map[string]string) (buildtask.Spec, error) {
	auth, err := json.Marshal(map[string]map[string]string{p.registry.Host(): {"username": p.regUser, "password": p.regPass}})
	if err != nil {
		return buildtask.Spec{}, err
	}
	gen, err := generation(a.Generation)
	if err != nil {
		return buildtask.Spec{}, err
	}
	s := buildtask.Spec{
		App:         a.Name,
		ID:          build,
		URL:         url,
		Push:        p.registry.Host() + "/" + a.Name,
		Auth:        string(auth),
		Generation:  gen,
		Manifest:    deref(opts.Manifest),
		Development: opts.Development != nil && *opts.Development,
		Rack:        p.opts.Name,
		RackURL:     p.rackURL(),
		Mirror:      p.registry.Host(),
		NoCache:     opts.NoCache != nil && *opts.NoCache,
		BuildArgs:   opts.BuildArgs,
	}
	if err := s.FromRack(ps, p.registry.Host()+"/"+p.CacheRepo()); err != nil {
		return buildtask.Spec{}, err
	}
	return s.WithDefaults(), nil
}

// generation reads an app's generation ("" is 2).
func generation(g string) (int, error) {
	switch g {
	case "", "2":
		return 2, nil
	case "1":
		return 1, nil
	}
	return 0, fmt.Errorf("app generation must be 1 or 2, got %q", g)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// BuildGet returns a build.
func (p *Provider) BuildGet(app, id string) (*structs.Build, error) {
	return p.store.BuildGet(app, id)
}

// BuildList lists an app's builds, newest first.
func (p *Provider) BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error) {
	if _, err := p.store.AppGet(app); err != nil {
		return nil, err
	}
	limit := 0
	if opts.Limit != nil {
		limit = *opts.Limit
	}
	return p.store.BuildList(app, limit)
}

// BuildUpdate applies what the build task reports under the build state
// rules (structs.Build.Apply): a build that already ended keeps its outcome,
// so a task the rack gave up on cannot revive it.
func (p *Provider) BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error) {
	return p.store.BuildUpdate(app, id, func(b *structs.Build) error { return b.Apply(opts) })
}

// BuildLogs returns a build's output: followed live while it runs (unless
// Follow is false), or the stored log.
func (p *Provider) BuildLogs(app, id string, opts structs.LogsOptions) (io.ReadCloser, error) {
	if _, err := p.store.BuildGet(app, id); err != nil {
		return nil, err
	}
	// older convox CLIs send no follow option and expect a live stream
	follow := opts.Follow == nil || *opts.Follow
	done := func() bool {
		if p.builds.running(id) {
			return false
		}
		b, err := p.store.BuildGet(app, id)
		return err != nil || b.Terminal() || !p.builds.running(id)
	}
	return buildlog.Open(p.logPath(app, id), follow, done)
}

func (p *Provider) logPath(app, id string) string {
	return filepath.Join(p.opts.Dir, "logs", app, id+".log")
}

// buildSet tracks the builds this process runs.
type buildSet struct {
	p      *Provider
	mu     sync.Mutex
	active map[string]runningBuild
	shared *builder.SharedDaemon
	fresh  *builder.Engine // the engine host of BuildEphemeral=Yes builds
	wg     sync.WaitGroup
	// teardowns counts fargate build containers being removed after their build
	teardowns sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
}

type runningBuild struct {
	app    string
	cancel context.CancelFunc
}

func newBuildSet(p *Provider) (*buildSet, error) {
	ctx, cancel := context.WithCancel(context.Background())
	return &buildSet{p: p, active: map[string]runningBuild{}, ctx: ctx, cancel: cancel}, nil
}

func (s *buildSet) running(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.active[id]
	return ok
}

func (s *buildSet) runningFor(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.active {
		if r.app == app {
			return true
		}
	}
	return false
}

// start runs the task in the background, writing its output to the build log.
func (s *buildSet) start(b structs.Build, runner builder.Runner, task builder.Task) error {
	p := s.p
	if err := os.MkdirAll(filepath.Dir(p.logPath(b.App, b.Id)), 0o700); err != nil {
		return fmt.Errorf("build log: %w", err)
	}
	logf, err := buildlog.Create(p.logPath(b.App, b.Id))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	release := p.gc.lease() // the build pushes: no registry sweep until it ends
	s.mu.Lock()
	s.active[b.Id] = runningBuild{app: b.App, cancel: cancel}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		defer cancel()
		task.Out = logf
		fmt.Fprintf(logf, "Running build %s on %s\n", b.Id, runner.Name())
		err := runner.Run(ctx, task)
		s.finish(b, err, logf)
		logf.Close()
		s.mu.Lock()
		delete(s.active, b.Id)
		s.mu.Unlock()
	}()
	return nil
}

// finish fails a build the task did not finish, and records cache push times.
func (s *buildSet) finish(b structs.Build, runErr error, logf io.Writer) {
	p := s.p
	reason := "the build task exited without reporting a result"
	if runErr != nil {
		reason = "the build task failed: " + runErr.Error()
	}
	if s.ctx.Err() != nil {
		reason = "the rack stopped while this build was running"
	}
	now := p.opts.Now().UTC()
	final, err := p.store.BuildUpdate(b.App, b.Id, func(b *structs.Build) error {
		if !b.Terminal() {
			b.Status, b.Reason, b.Ended = structs.BuildStatusFailed, reason, now
		}
		return nil
	})
	if err == nil && final.Status == structs.BuildStatusFailed && final.Reason == reason {
		fmt.Fprintf(logf, "ERROR: %s\n", reason)
	}
	if policy, on := p.cleanupPolicy(); on {
		// push times, read right after the build pushed: what the janitor ages
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := p.janitor.Sweep(ctx, janitor.Policy{RetentionDays: policy.RetentionDays}); err != nil {
			fmt.Fprintf(logf, "WARNING: recording cache push times: %v\n", err)
		}
	}
}

// stop cancels running builds and waits for them.
func (s *buildSet) stop() {
	s.cancel()
	s.wg.Wait()
	s.teardowns.Wait()
	if s.shared != nil {
		s.shared.Stop()
	}
	s.mu.Lock()
	fresh := s.fresh
	s.mu.Unlock()
	if fresh != nil {
		fresh.Wait()
	}
	if s.p.opts.Docker != "" {
		// the docker-container builder is the rack's build host: it stops with the rack
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.engineHost(false).RemoveBuilders(ctx, io.Discard)
	}
}

// recover fails builds a previous run of the rack left unfinished; their logs stay.
func (p *Provider) recover() error {
	apps, err := p.store.AppList()
	if err != nil {
		return err
	}
	reason := "the rack restarted while this build was running"
	p.builds.cleanupHosts()
	for _, a := range apps {
		builds, err := p.store.BuildList(a.Name, 0)
		if err != nil {
			return err
		}
		for _, b := range builds {
			if b.Terminal() {
				continue
			}
			p.builds.cleanup(b.Id)
			if _, err := p.store.BuildUpdate(a.Name, b.Id, func(b *structs.Build) error {
				b.Status, b.Reason, b.Ended = structs.BuildStatusFailed, reason, p.opts.Now().UTC()
				return nil
			}); err != nil {
				return fmt.Errorf("failing interrupted build %s: %w", b.Id, err)
			}
			if f, err := buildlog.Create(p.logPath(a.Name, b.Id)); err == nil {
				fmt.Fprintf(f, "ERROR: %s\n", reason)
				f.Close()
			}
		}
	}
	return nil
}
