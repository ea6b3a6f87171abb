// Command build is the build task a rack provider starts: it reads BUILD_*
// settings from flags or the environment and runs pkg/build against the rack
// API at RACK_URL (with RACK_PASSWORD when the URL has none). With
// BUILD_REGISTRY_LOGIN=ecr it asks ECR for its own registry login.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/buildtask"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n", err)
		os.Exit(1)
	}
}

// parse reads the build-task contract and how this host reaches its engines.
func parse(args []string, getenv func(string) string) (build.Options, error) {
	spec, err := buildtask.Parse(args, getenv)
	if err != nil {
		return build.Options{}, err
	}
	return build.Options{Spec: spec, WorkDir: getenv("BUILD_WORKDIR"), Engine: engine.Config{
		Docker:         getenv("DOCKER_BIN"),
		BuildKitHost:   getenv("BUILDKIT_HOST"),
		BuildKitImage:  getenv("BUILDKIT_IMAGE"),
		Builder:        getenv("BUILDER_NAME"),
		Mirror:         spec.Mirror,
		KanikoExecutor: getenv("KANIKO_EXECUTOR"),
		KanikoImage:    getenv("KANIKO_IMAGE"),
	}}, nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: build [flags]

Builds an app's services and pushes {push}:{service}.{build}, reporting to RACK_URL
(its password in the URL, or RACK_PASSWORD: an ECS build task gets it from the stack's secret).
Every flag defaults to its environment variable (the build-task contract):
`)
	buildtask.Usage(w)
	fmt.Fprint(w, `Host: BUILD_WORKDIR (where the source is extracted; the fargate image sets it).
Engines: BUILDKIT_HOST (buildx remote builder), BUILDKIT_IMAGE (docker-container
builder image), BUILDER_NAME (the docker-container builder's name), KANIKO_EXECUTOR,
KANIKO_IMAGE (run kaniko in docker), DOCKER_BIN,
DOCKER_HOST, DOCKER_CONFIG.
`)
}

func run(args []string, getenv func(string) string, stdout io.Writer) error {
	opts, err := parse(args, getenv)
	if errors.Is(err, buildtask.ErrHelp) {
		usage(stdout)
		return nil
	}
	if err != nil {
		return err
	}
	rack, err := rackClient(opts.Spec)
	if err != nil {
		return fmt.Errorf("rack api: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.Spec, err = withRegistryLogin(ctx, opts.Spec); err != nil {
		return err
	}
	return build.Run(ctx, rack, opts, stdout)
}
