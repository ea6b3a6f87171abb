// Package cachepolicy decides, as a pure function of a build's settings, which
// persistent-cache flags each build engine gets and which warnings the log shows.
package cachepolicy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/convox/rack/pkg/buildtask"
)

// DefaultTTL is kaniko's own cache TTL; used when the provider passes none.
const DefaultTTL = "336h"

// Input is everything the policy depends on.
type Input struct {
	// Method is ec2 (buildx) or fargate (kaniko).
	Method buildtask.Method
	// Cache is the rack's BuildCache parameter.
	Cache bool
	// Repo is the cache repository, e.g. 123.dkr.ecr.us-east-1.amazonaws.com/rack-build-cache.
	Repo string
	// NoCache is `convox build --no-cache`.
	NoCache bool
	// Generation is 1 for docker-compose.yml apps, 2 for convox.yml apps.
	Generation int
	// Buildx reports whether `docker buildx` is usable in this build image.
	Buildx bool
	// TTL is kaniko's --cache-ttl, aligned with the cache retention days.
	TTL string
	// BuildArgs are the build arg names (or NAME=value pairs) of this build.
	BuildArgs []string
}

// Policy is the decision: whether the registry cache is used, and how.
type Policy struct {
	in Input
	// Persistent is true when the registry cache is read or written.
	Persistent bool
	// Import is true when cached layers are read (false on --no-cache).
	Import bool
	// Buildx is true when the ec2 method builds with buildx; false means plain docker build.
	Buildx bool
	// Warnings are whole log lines, each starting with "WARNING:" or saying why the cache is off.
	Warnings []string
}

// secretWords mark a build arg name as secret-looking.
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH"}

// Decide is the cache policy.
func Decide(in Input) Policy {
	p := Policy{in: in, Buildx: in.Method != buildtask.Fargate && in.Buildx}
	wanted := in.Cache
	switch {
	case !wanted:
	case in.Generation == 1:
		p.Warnings = append(p.Warnings, "generation 1 apps do not use the persistent build cache (BuildCache=Yes applies to convox.yml apps only); building with the local layer cache")
		wanted = false
	case strings.TrimSpace(in.Repo) == "":
		p.Warnings = append(p.Warnings, "WARNING: BuildCache is on but no cache repository was given; building without the persistent build cache")
		wanted = false
	case in.Method == buildtask.EC2 && !in.Buildx:
		p.Warnings = append(p.Warnings, "WARNING: docker buildx is not available in this build image; building without the persistent build cache")
		wanted = false
	case in.Method == buildtask.Fargate && in.NoCache:
		// kaniko: --no-cache skips the persistent cache entirely.
		wanted = false
	}
	p.Persistent = wanted
	p.Import = wanted && !in.NoCache
	if p.Persistent {
		for _, name := range SecretArgs(in.BuildArgs) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("WARNING: build arg %s looks like a secret and the build cache is exported with mode=max: its value can be read from the cache repository", name))
		}
	}
	return p
}

// Repo is the cache repository while the registry cache is used, else "".
func (p Policy) Repo() string {
	if !p.Persistent {
		return ""
	}
	return strings.TrimSpace(p.in.Repo)
}

// cacheToOptions are the registry cache export options of the ec2 method.
const cacheToOptions = ",mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true,compression=estargz"

// BuildxFlags are the buildx cache flags of one build: a --cache-from per
// ref it reads, and a --cache-to for the first ref it writes (the others are
// tagged to the same manifest after the build); nil when buildx is not used.
func (p Policy) BuildxFlags(refs Refs) []string {
	if p.in.Method == buildtask.Fargate || !p.Buildx {
		return nil
	}
	var flags []string
	if p.in.NoCache {
		flags = append(flags, "--no-cache")
	}
	if !p.Persistent {
		return flags
	}
	repo := strings.TrimSpace(p.in.Repo)
	if p.Import {
		for _, r := range refs.From {
			flags = append(flags, "--cache-from", "type=registry,ref="+repo+":"+r.Tag)
		}
	}
	if len(refs.To) > 0 {
		// one export: the build tags the other refs to it afterwards, since
		// parallel exports of the same blobs race in the registry
		flags = append(flags, "--cache-to", "type=registry,ref="+repo+":"+refs.To[0].Tag+cacheToOptions)
	}
	return flags
}

// DockerFlags are the plain `docker build` flags (no buildx): local cache only.
func (p Policy) DockerFlags() []string {
	if p.in.Method == buildtask.Fargate || p.Buildx || !p.in.NoCache {
		return nil
	}
	return []string{"--no-cache"}
}

// KanikoFlags are the kaniko executor cache flags; nil off the fargate method.
func (p Policy) KanikoFlags() []string {
	if p.in.Method != buildtask.Fargate || !p.Persistent {
		return nil
	}
	ttl, err := buildtask.NormalizeTTL(p.in.TTL)
	if err != nil || ttl == "" {
		ttl = DefaultTTL
	}
	return []string{"--cache=true", "--cache-repo=" + strings.TrimSpace(p.in.Repo), "--cache-ttl=" + ttl}
}

// SecretArgs returns the build arg names that look like secrets, sorted.
func SecretArgs(args []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		upper := strings.ToUpper(name)
		for _, w := range secretWords {
			if strings.Contains(upper, w) && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}
