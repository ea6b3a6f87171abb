package build

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/build/inputs"
	"github.com/convox/rack/pkg/structs"
)

// reuseLookback is how many of the app's latest builds a build searches for
// one with the same inputs.
const reuseLookback = 50

// reuse keys the build's inputs, records the key and, unless the build is
// --no-cache, looks for an earlier complete build of the app with the same
// key whose images are still there. When it finds one, it tags its images
// for this build in the registry (no engine runs), reports the build as a
// reuse of it and returns true. Anything that stands in the way (a base that
// cannot be resolved, an image gone from the registry) means a real build.
func (b *builder) reuse(ctx context.Context, work, src string, services []service) (bool, error) {
	logins, err := engine.ParseAuth(b.opts.Auth)
	if err != nil {
		return false, err
	}
	logins = mergeLogins(b.opts.Engine.Logins, logins)
	key, err := b.inputsKey(ctx, work, src, services, logins)
	if err != nil {
		fmt.Fprintf(b.out, "Building: the inputs could not be keyed (%v), so no earlier build can be reused\n", err)
		return false, nil
	}
	if _, err := b.rack.BuildUpdate(b.opts.App, b.opts.ID, structs.BuildUpdateOptions{Inputs: &key}); err != nil {
		return false, fmt.Errorf("reporting build inputs: %w", err)
	}
	if b.opts.NoCache {
		fmt.Fprintf(b.out, "Inputs %s; --no-cache: building, not reusing an earlier build\n", short(key))
		return false, nil
	}
	if b.opts.NoReuse {
		return false, nil
	}
	earlier, err := b.rack.BuildList(b.opts.App, structs.BuildListOptions{Limit: ptr(reuseLookback)})
	if err != nil {
		fmt.Fprintf(b.out, "WARNING: listing earlier builds: %v; building\n", err)
		return false, nil
	}
	for _, e := range earlier {
		if e.Id == b.opts.ID || e.Status != structs.BuildStatusComplete || e.Inputs != key {
			continue
		}
		if err := b.retag(ctx, e.Id, services, logins); err != nil {
			fmt.Fprintf(b.out, "Not reusing build %s, which had the same inputs: %v\n", e.Id, err)
			continue
		}
		fmt.Fprintf(b.out, "Reusing the images of build %s: the inputs are the same (%s); no engine runs\n", e.Id, short(key))
		return true, b.reportReuse(e)
	}
	fmt.Fprintf(b.out, "Inputs %s: no earlier build to reuse; building\n", short(key))
	return false, nil
}

// inputsKey is the inputs key of the build's images (pkg/build/inputs), with
// every base image resolved to its digest now, so a moved tag is noticed.
func (b *builder) inputsKey(ctx context.Context, work, src string, services []service, logins map[string]engine.Login) (string, error) {
	groups, err := b.groups(work, src, services, cachepolicy.Policy{}, cachepolicy.Policy{})
	if err != nil {
		return "", err
	}
	in := inputs.Build{Method: string(b.opts.Method), Generation: b.opts.Generation, Development: b.opts.Development,
		Cache: b.opts.Cache, CacheRepo: b.opts.CacheRepo, CacheTTL: b.opts.CacheTTL, Push: b.opts.Push}
	digests := map[string]string{}
	for _, g := range groups {
		bases := map[string]string{}
		for _, ref := range g.req.Bases {
			d, ok := digests[ref]
			if !ok {
				if d, err = resolveBase(ctx, ref, b.opts.Engine.Mirror, logins); err != nil {
					return "", err
				}
				digests[ref] = d
			}
			bases[ref] = d
		}
		in.Images = append(in.Images, inputs.Image{Services: g.req.Services, Context: g.req.Context,
			Dockerfile: g.req.Dockerfile, Target: g.req.Target, Args: g.req.Args, Bases: bases})
	}
	return inputs.Key(in)
}

// resolveBase is the digest a base image's tag points at now, read from the
// registry the engines pull it from (the docker.io mirror where there is one).
func resolveBase(ctx context.Context, ref, mirror string, logins map[string]engine.Login) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("base image %q: %w", ref, err)
	}
	if d, ok := r.(name.Digest); ok {
		return d.DigestStr(), nil
	}
	full := r.Name()
	if mirror != "" && r.Context().RegistryStr() == name.DefaultRegistry {
		full = mirror + "/" + r.Context().RepositoryStr() + ":" + r.Identifier()
	}
	pulled, err := name.ParseReference(full, nameOptions(full)...)
	if err != nil {
		return "", fmt.Errorf("base image %q: %w", ref, err)
	}
	desc, err := remote.Head(pulled, remoteOptions(ctx, full, logins)...)
	if err != nil {
		return "", fmt.Errorf("resolving base image %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// retag points every service's tag of this build at the image of the same
// service of build id, in the app's repository: a registry-side tag, no
// engine, no blob moved.
func (b *builder) retag(ctx context.Context, id string, services []service, logins map[string]engine.Login) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for _, s := range services {
		from := fmt.Sprintf("%s:%s.%s", b.opts.Push, s.Name, id)
		to := fmt.Sprintf("%s:%s.%s", b.opts.Push, s.Name, b.opts.ID)
		if err := tagRef(ctx, from, to, logins); err != nil {
			return err
		}
	}
	return nil
}

// reportReuse records that the build reused e: its entrypoint, and a cache
// summary in which every step of every service came from e.
func (b *builder) reportReuse(e structs.Build) error {
	b.summary = nil
	for _, s := range e.Cache {
		b.summary = append(b.summary, structs.BuildServiceSummary{Service: s.Service, Steps: s.Steps, Cached: s.Steps,
			PersistentCache: s.PersistentCache, CacheSource: structs.CacheSourceReused})
	}
	for _, s := range b.summary {
		fmt.Fprintf(b.out, "Service %s: %d steps, all reused from build %s\n", s.Service, s.Steps, e.Id)
	}
	data, err := json.Marshal(b.summary)
	if err != nil {
		return err
	}
	upd := structs.BuildUpdateOptions{Reused: &e.Id, Cache: ptr(string(data))}
	if e.Entrypoint != "" {
		upd.Entrypoint = &e.Entrypoint
	}
	if _, err := b.rack.BuildUpdate(b.opts.App, b.opts.ID, upd); err != nil {
		return fmt.Errorf("reporting the reuse of build %s: %w", e.Id, err)
	}
	return nil
}

// short is a key for a log line: its first 12 hex digits.
func short(key string) string {
	hex := strings.TrimPrefix(key, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return "inputs:" + hex
}
