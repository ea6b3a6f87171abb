package buildtask

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrHelp is returned by Parse for -h.
var ErrHelp = flag.ErrHelp

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// flags is the flag set of cmd/build: every setting as a flag that defaults
// to its variable, so Parse(Spec.Args(), Spec.Vars()) is the Spec again.
func flags(s *Spec, raw *rawFlags, getenv func(string) string) *flag.FlagSet {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, name, env, usage string) { fs.StringVar(p, name, getenv(env), usage+" ("+env+")") }
	str(&s.App, "app", EnvApp, "app name")
	str(&s.ID, "id", EnvID, "build id")
	str(&s.URL, "url", EnvURL, "object:// url of the source tarball")
	str(&s.Push, "push", EnvPush, "image repository to push {service}.{build} tags to")
	str(&s.Auth, "auth", EnvAuth, "registry logins as JSON")
	str(&s.Manifest, "manifest", EnvManifest, "manifest file")
	str(&raw.method, "method", EnvMethod, "build method: ec2 or fargate")
	str(&s.CacheRepo, "cache-repo", EnvCacheRepo, "persistent cache repository")
	str(&s.CacheTTL, "cache-ttl", EnvCacheTTL, "cache ttl: days or a duration")
	str(&s.Rack, "rack", EnvRack, "rack name")
	str(&s.Mirror, "registry-mirror", EnvMirror, "registry serving docker.io images")
	str(&s.RegistryLogin, "registry-login", EnvRegistryLogin, "ecr: log in to the push and cache registries with an ECR token of the task's own credentials")
	str(&raw.generation, "generation", EnvGeneration, "manifest generation: 1 or 2")
	str(&raw.development, "development", EnvDevelopment, "development build")
	str(&raw.persistent, "build-cache", EnvCache, "rack BuildCache is on")
	fs.StringVar(&raw.cache, "cache", "true", "use the layer cache; -cache=false is --no-cache")
	fs.Var(&raw.buildArgs, "build-args", "NAME=value build arg (repeatable)")
	return fs
}

type rawFlags struct {
	method, generation, development, persistent, cache string
	buildArgs                                          multi
}

// Parse reads cmd/build's arguments over its environment: the Spec with
// defaults filled in and validated. RackURL and RackPassword come from
// RACK_URL and RACK_PASSWORD only (never flags: a process's arguments are public).
func Parse(args []string, getenv func(string) string) (Spec, error) {
	var s Spec
	var raw rawFlags
	fs := flags(&s, &raw, getenv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return s, ErrHelp
		}
		return s, fmt.Errorf("%v (see build -h)", err)
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q (see build -h)", fs.Arg(0))
	}
	s.RackURL = getenv(EnvRackURL)
	s.RackPassword = getenv(EnvRackPassword)
	var err error
	if s.Method, err = ParseMethod(raw.method); err != nil {
		return s, err
	}
	if raw.generation != "" {
		if s.Generation, err = strconv.Atoi(raw.generation); err != nil {
			return s, fmt.Errorf("generation must be 1 or 2, got %q", raw.generation)
		}
	}
	for _, b := range []struct {
		name, v string
		dst     *bool
	}{{"development", raw.development, &s.Development}, {"build-cache", raw.persistent, &s.Cache}} {
		if *b.dst, err = parseBool(b.name, b.v); err != nil {
			return s, err
		}
	}
	useCache, err := parseBool("cache", raw.cache)
	if err != nil {
		return s, err
	}
	s.NoCache = !useCache
	s.BuildArgs = raw.buildArgs
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s.WithDefaults(), nil
}

// Usage prints every flag with the variable it defaults to.
func Usage(w io.Writer) {
	var s Spec
	var raw rawFlags
	fs := flags(&s, &raw, func(string) string { return "" })
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseBool accepts true/false, yes/no, 1/0; "" is false.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, fmt.Errorf("%s must be true or false, got %q", name, v)
}
