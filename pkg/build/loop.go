package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/convox/rack/pkg/build/cachekey"
	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/build/dockerfile"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
)

// group is one image build shared by services with the same context,
// Dockerfile, target and args.
type group struct {
	req engine.Request
	// pull marks an image-only service: a one-line FROM build, never cached.
	pull bool
	// sharedKeys name its dependency prefixes in the rack-wide cache (the
	// ec2 method's registry cache).
	sharedKeys []string
}

// buildAll is the one service loop: every engine, every method goes through
// it. The engine was started with the fetch (startEngine).
func (b *builder) buildAll(ctx context.Context, work, src string, services []service, pending *pendingEngine) error {
	cfg, in, err := b.engineInput()
	if err != nil {
		return err
	}
	b.logins = cfg.Logins
	eng, buildx, err := pending.wait(b.out)
	if err != nil {
		return err
	}
	defer eng.Close()

	in.Buildx = buildx
	policy := cachepolicy.Decide(in)
	for _, w := range policy.Warnings {
		fmt.Fprintln(b.out, w)
	}
	in.Cache, in.BuildArgs = false, nil
	uncached := cachepolicy.Decide(in)

	groups, err := b.groups(work, src, services, policy, uncached)
	if err != nil {
		return err
	}
	if policy.Persistent {
		tags, err := probeCache(ctx, b.opts.CacheRepo, b.preferredTags(groups), cfg.Logins)
		if err != nil {
			fmt.Fprintf(b.out, "WARNING: the build cache failed (%v); building without the persistent cache\n", err)
			for i := range groups {
				groups[i].req.Policy = uncached
			}
		} else {
			b.planRefs(groups, tags)
		}
	}
	for i, g := range groups {
		g.req.Last = i == len(groups)-1 // the engine's last build: nothing follows it in this task
		if err := b.buildGroup(ctx, eng, g, uncached); err != nil {
			return err
		}
	}
	return b.report(groups, cfg.Logins)
}

// preferredTags are the cache tags the probe reads first: the first built
// group's own and shared refs.
func (b *builder) preferredTags(groups []group) []string {
	for _, g := range groups {
		if !g.pull {
			r := cachepolicy.PlanRefs(b.opts.App, g.req.Services, g.sharedKeys, nil)
			tags := make([]string, 0, len(r.To))
			for _, t := range r.To {
				tags = append(tags, t.Tag)
			}
			return tags
		}
	}
	return nil
}

// planRefs gives each built group the cache refs it reads and writes, reading
// only the tags the cache repository has.
func (b *builder) planRefs(groups []group, tags []string) {
	have := map[string]bool{}
	for _, t := range tags {
		have[t] = true
	}
	exists := func(t string) bool { return have[t] }
	for i, g := range groups {
		if g.pull || !g.req.Policy.Persistent || b.opts.Method != buildtask.EC2 {
			continue // kaniko keys its cache by content: no refs to plan
		}
		groups[i].req.CacheRefs = cachepolicy.PlanRefs(b.opts.App, g.req.Services, g.sharedKeys, exists)
	}
}

// engine is the build's engine and whether it is buildx: kaniko on fargate;
// on ec2 a buildx builder that can export the registry cache when the build
// uses it (persistent), else `docker build` on the host's engine (a build
// that will not use the persistent cache needs no builder of its own). Where
// a BuildKit daemon is the build host (BUILDKIT_HOST, no engine) it stays buildx.
func (b *builder) engine(ctx context.Context, cfg engine.Config, persistent bool, out io.Writer) (engine.Engine, bool, error) {
	switch {
	case b.opts.Method == buildtask.Fargate:
		eng, err := engine.NewKaniko(cfg)
		return eng, false, err
	case !persistent && cfg.BuildKitHost == "":
		eng, err := engine.NewHost(ctx, cfg)
		return eng, false, err
	}
	return engine.NewEC2(ctx, cfg, []string{b.opts.Push, b.opts.CacheRepo}, out)
}

// groups turns services into builds: shared builds once, image-only services last.
func (b *builder) groups(work, src string, services []service, policy, uncached cachepolicy.Policy) ([]group, error) {
	var groups []group
	index := map[string]int{}
	for _, s := range services {
		tag := fmt.Sprintf("%s:%s.%s", b.opts.Push, s.Name, b.opts.ID)
		if s.Path == "" {
			dir := filepath.Join(work, "pull", s.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			df := filepath.Join(dir, "Dockerfile")
			if err := os.WriteFile(df, []byte("FROM "+s.Image+"\n"), 0o644); err != nil {
				return nil, err
			}
			groups = append(groups, group{pull: true, req: engine.Request{Services: []string{s.Name}, Root: work, Context: dir,
				Dockerfile: df, Tags: []string{tag}, Bases: []string{s.Image}, Policy: uncached}})
			continue
		}
		ctxDir, df, err := dockerfilePath(src, s)
		if err != nil {
			return nil, err
		}
		if _, err := tarball.Inside(src, df); err != nil {
			return nil, fmt.Errorf("service %s: reading Dockerfile: %w", s.Name, err)
		}
		if err := ignoreFilesInside(src, ctxDir, df); err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		file, err := dockerfile.Load(df)
		if err != nil {
			return nil, fmt.Errorf("service %s: reading Dockerfile: %w", s.Name, err)
		}
		args := file.FilterArgs(append(append([]string{}, s.Args...), b.opts.BuildArgs...))
		target := b.target(file)
		key := groupKey(ctxDir, df, target, args)
		if i, ok := index[key]; ok {
			groups[i].req.Services = append(groups[i].req.Services, s.Name)
			groups[i].req.Tags = append(groups[i].req.Tags, tag)
			continue
		}
		var shared []string
		if policy.Persistent && b.opts.Method == buildtask.EC2 {
			shared = cachekey.Keys(file, ctxDir, target, args)
		}
		index[key] = len(groups)
		built := df
		if p, ok := b.rewritten[key]; ok {
			built = p // the fargate check's rewrite for kaniko
		}
		groups = append(groups, group{sharedKeys: shared, req: engine.Request{Services: []string{s.Name}, Root: work, Context: ctxDir,
			Dockerfile: built, Target: target, Args: args, Tags: []string{tag}, Bases: file.Bases(args), Policy: policy}})
	}
	sort.SliceStable(groups, func(i, j int) bool { return !groups[i].pull && groups[j].pull })
	return groups, nil
}

// groupKey names a build: services with the same context, Dockerfile,
// target and args share it.
func groupKey(ctxDir, df, target string, args []string) string {
	return strings.Join(append([]string{ctxDir, df, target}, args...), "\x00")
}

// buildGroup builds one group; a cache fault turns into a WARNING and, when
// the build failed with it, one retry without the persistent cache.
func (b *builder) buildGroup(ctx context.Context, eng engine.Engine, g group, uncached cachepolicy.Policy) error {
	req := g.req
	names := strings.Join(req.Services, ", ")
	if g.pull {
		fmt.Fprintf(b.out, "Pulling %s for %s\n", req.Bases[0], names)
	} else {
		fmt.Fprintf(b.out, "Building %s (%s)\n", names, eng.Name())
	}
	start := time.Now()
	watch := newFaultWatch(b.opts.CacheRepo)
	if req.Policy.Persistent {
		watch.check = func(ref string) error {
			if err := probeRef(ctx, ref, b.logins); err != nil && ctx.Err() == nil {
				return err
			}
			return nil // a canceled build is not a cache fault
		}
	}
	res, err := eng.Build(ctx, req, io.MultiWriter(b.out, watch))
	fault := watch.Fault()
	if err != nil && req.Policy.Persistent && fault != "" && ctx.Err() == nil {
		fmt.Fprintf(b.out, "WARNING: the build cache failed (%s); building %s again without the persistent cache\n", fault, names)
		req.Policy, fault = uncached, ""
		res, err = eng.Build(ctx, req, b.out)
	} else if fault != "" {
		fmt.Fprintf(b.out, "WARNING: the build cache failed (%s); the build went on without it\n", fault)
	}
	if err != nil {
		return fmt.Errorf("building %s: %w", names, err)
	}
	if g.pull {
		return nil
	}
	secs := time.Since(start).Seconds()
	if req.Policy.Persistent && fault == "" {
		b.saveRefs(ctx, req.Policy.Repo(), req.CacheRefs)
	}
	for _, s := range req.Services {
		persistent := req.Policy.Persistent && fault == ""
		source := ""
		if persistent && res.Cached > 0 {
			source = req.CacheRefs.Source()
			if b.opts.Method == buildtask.Fargate {
				source = cachepolicy.SourceLayers
			}
		}
		b.summary = append(b.summary, structs.BuildServiceSummary{Service: s, Steps: res.Steps, Cached: res.Cached, Seconds: round(secs),
			PersistentCache: persistent, CacheSource: source})
		cache := "local cache"
		if persistent {
			cache = "persistent cache"
			if source != "" {
				cache += ", cached steps from " + structs.CacheSourceText(source)
			}
		}
		fmt.Fprintf(b.out, "Service %s: %d steps, %d cached, %.1fs (%s)\n", s, res.Steps, res.Cached, secs, cache)
	}
	return nil
}

// saveRefs gives every other ref the build writes the manifest buildx
// exported to the first, and warns about each ref the registry does not
// have then: buildx exports with ignore-error, so a failed export is
// otherwise silent and the next build is colder than it should be.
func (b *builder) saveRefs(ctx context.Context, repo string, refs cachepolicy.Refs) {
	if len(refs.To) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout) // all of it together
	defer cancel()
	first := repo + ":" + refs.To[0].Tag
	if err := headRef(ctx, first, b.logins); err != nil {
		fmt.Fprintf(b.out, "WARNING: the build cache was not saved to %s: %v\n", refs.To[0].Tag, err)
		return
	}
	for _, r := range refs.To[1:] {
		if err := tagRef(ctx, first, repo+":"+r.Tag, b.logins); err != nil {
			fmt.Fprintf(b.out, "WARNING: the build cache was not saved to %s: %v\n", r.Tag, err)
		}
	}
}

// report records the per-service cache summary and the entrypoint.
func (b *builder) report(groups []group, logins map[string]engine.Login) error {
	data, err := json.Marshal(b.summary)
	if err != nil {
		return err
	}
	upd := structs.BuildUpdateOptions{Cache: ptr(string(data))}
	for _, g := range groups {
		if g.pull {
			continue
		}
		if ep, err := imageEntrypoint(g.req.Tags[0], logins); err == nil && ep != "" {
			upd.Entrypoint = &ep
		} else if err != nil {
			fmt.Fprintf(b.out, "WARNING: reading the entrypoint of %s: %v\n", g.req.Tags[0], err)
		}
		break
	}
	if _, err := b.rack.BuildUpdate(b.opts.App, b.opts.ID, upd); err != nil {
		return fmt.Errorf("reporting build cache summary: %w", err)
	}
	return nil
}

func mergeLogins(a, b map[string]engine.Login) map[string]engine.Login {
	out := map[string]engine.Login{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func round(s float64) float64 { return float64(int(s*10+0.5)) / 10 }
