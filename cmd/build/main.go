// Command build is the build task a rack provider starts: it reads BUILD_*
// settings from flags or the environment and runs pkg/build against the rack
// API at RACK_URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/sdk"
)

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n", err)
		os.Exit(1)
	}
}

// parse reads flags, each defaulting to its BUILD_* environment variable.
func parse(args []string, getenv func(string) string) (build.Options, error) {
	var o build.Options
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, name, env, usage string) { fs.StringVar(p, name, getenv(env), usage+" ("+env+")") }
	str(&o.App, "app", "BUILD_APP", "app name")
	str(&o.Id, "id", "BUILD_ID", "build id")
	str(&o.Url, "url", "BUILD_URL", "object:// url of the source tarball")
	str(&o.Push, "push", "BUILD_PUSH", "image repository to push {service}.{build} tags to")
	str(&o.Auth, "auth", "BUILD_AUTH", "registry logins as JSON")
	str(&o.Manifest, "manifest", "BUILD_MANIFEST", "manifest file")
	str(&o.Method, "method", "BUILD_METHOD", "build method: ec2 or fargate")
	str(&o.CacheRepo, "cache-repo", "BUILD_CACHE_REPO", "persistent cache repository")
	str(&o.CacheTTL, "cache-ttl", "BUILD_CACHE_TTL", "kaniko cache ttl: days or a duration")
	str(&o.Rack, "rack", "BUILD_RACK", "rack name")
	str(&o.WorkDir, "workdir", "BUILD_WORKDIR", "where the source is extracted")
	var gen, dev, persistent, cache string
	fs.StringVar(&gen, "generation", getenv("BUILD_GENERATION"), "manifest generation: 1 or 2 (BUILD_GENERATION)")
	fs.StringVar(&dev, "development", getenv("BUILD_DEVELOPMENT"), "development build (BUILD_DEVELOPMENT)")
	fs.StringVar(&persistent, "build-cache", getenv("BUILD_CACHE"), "rack BuildCache is on (BUILD_CACHE)")
	fs.StringVar(&cache, "cache", "true", "use the layer cache; -cache=false is --no-cache")
	var buildArgs multi
	fs.Var(&buildArgs, "build-args", "NAME=value build arg (repeatable)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return o, err
		}
		return o, fmt.Errorf("%v (see build -h)", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (see build -h)", fs.Arg(0))
	}
	var err error
	if gen != "" {
		if o.Generation, err = strconv.Atoi(gen); err != nil {
			return o, fmt.Errorf("generation must be 1 or 2, got %q", gen)
		}
	}
	for _, b := range []struct {
		name, v string
		dst     *bool
	}{{"development", dev, &o.Development}, {"build-cache", persistent, &o.Cache}} {
		if *b.dst, err = parseBool(b.name, b.v); err != nil {
			return o, err
		}
	}
	useCache, err := parseBool("cache", cache)
	if err != nil {
		return o, err
	}
	o.NoCache = !useCache
	o.BuildArgs = buildArgs
	o.Engine = engine.Config{
		Docker:         getenv("DOCKER_BIN"),
		BuildKitHost:   getenv("BUILDKIT_HOST"),
		BuildKitImage:  getenv("BUILDKIT_IMAGE"),
		Mirror:         getenv("BUILD_REGISTRY_MIRROR"),
		KanikoExecutor: getenv("KANIKO_EXECUTOR"),
		KanikoImage:    getenv("KANIKO_IMAGE"),
	}
	return o, o.Validate()
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

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: build [flags]

Builds an app's services and pushes {push}:{service}.{build}, reporting to RACK_URL.
Every flag defaults to its environment variable:
  -app BUILD_APP  -id BUILD_ID  -url BUILD_URL  -push BUILD_PUSH  -auth BUILD_AUTH
  -generation BUILD_GENERATION  -manifest BUILD_MANIFEST  -development BUILD_DEVELOPMENT
  -method BUILD_METHOD (ec2|fargate)  -build-cache BUILD_CACHE  -cache-repo BUILD_CACHE_REPO
  -cache-ttl BUILD_CACHE_TTL  -rack BUILD_RACK  -workdir BUILD_WORKDIR
  -cache=false    build without reusing cached layers (--no-cache)
  -build-args K=V repeatable
Engines: BUILDKIT_HOST (buildx remote builder), BUILDKIT_IMAGE (docker-container
builder image), BUILD_REGISTRY_MIRROR (docker.io mirror), KANIKO_EXECUTOR,
KANIKO_IMAGE (run kaniko in docker), DOCKER_BIN, DOCKER_HOST, DOCKER_CONFIG.
`)
}

func run(args []string, getenv func(string) string, stdout io.Writer) error {
	opts, err := parse(args, getenv)
	if err == flag.ErrHelp {
		usage(stdout)
		return nil
	}
	if err != nil {
		return err
	}
	rack, err := sdk.NewFromEnv()
	if err != nil {
		return fmt.Errorf("rack api: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return build.Run(ctx, rack, opts, stdout)
}
