package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// docker is the ec2 engine without a builder of its own: the engine's own
// `docker build`, then `docker push`; only the engine's local layer cache
// applies. With buildkit it is BuildKit inside the engine (DOCKER_BUILDKIT=1
// on the engine's default builder), else the legacy builder.
type docker struct {
	cfg      Config
	s        *session
	buildkit bool
	builder  string // the engine's own buildx builder, named after the docker context
}

// NewHost returns the ec2 engine of a build that uses no persistent cache:
// `docker build` with BuildKit on the host's engine and its local layer cache,
// no builder container and no BuildKit image to pull. A docker CLI without
// buildx (the CLI's BuildKit client) falls back to the legacy builder.
func NewHost(ctx context.Context, cfg Config) (Engine, error) {
	s, err := newSession(cfg)
	if err != nil {
		return nil, err
	}
	d := &docker{cfg: cfg, s: s}
	if _, err := output(ctx, s.env, cfg.docker(), "buildx", "version"); err == nil {
		d.buildkit = true
		d.builder = "default"
		if name, err := output(ctx, s.env, cfg.docker(), "context", "show"); err == nil && strings.TrimSpace(name) != "" {
			d.builder = strings.TrimSpace(name)
		}
	}
	return d, nil
}

func (d *docker) Name() string { return "docker" }

func (d *docker) Build(ctx context.Context, req Request, out io.Writer) (Result, error) {
	if err := d.pullBases(ctx, req.Bases, out); err != nil {
		return Result{}, err
	}
	args := []string{"build", "-f", req.Dockerfile}
	env, rule := withEnv(d.s.env, "DOCKER_BUILDKIT=0"), dockerRule
	if d.buildkit {
		// BUILDX_BUILDER pins the engine's own builder even where a buildx builder is the current one.
		env = withEnv(d.s.env, "DOCKER_BUILDKIT=1", "BUILDX_BUILDER="+d.builder, "BUILDX_NO_DEFAULT_ATTESTATIONS=1")
		args, rule = append(args, "--progress=plain"), buildkitRule
	}
	for _, t := range req.Tags {
		args = append(args, "-t", t)
	}
	if req.Target != "" {
		args = append(args, "--target", req.Target)
	}
	for _, a := range req.Args {
		args = append(args, "--build-arg", a)
	}
	args = append(args, req.Policy.DockerFlags()...)
	args = append(args, req.Context)
	c := newCounter(out, rule)
	if err := run(ctx, env, c, d.cfg.docker(), args...); err != nil {
		return c.Result(), err
	}
	for _, t := range req.Tags {
		if err := run(ctx, env, out, d.cfg.docker(), "push", t); err != nil {
			return c.Result(), err
		}
	}
	return c.Result(), nil
}

// pullBases fetches Docker Hub base images through the mirror when the engine
// lacks them, as an engine configured with that mirror would.
func (d *docker) pullBases(ctx context.Context, bases []string, out io.Writer) error {
	if d.cfg.Mirror == "" {
		return nil
	}
	for _, base := range bases {
		if RefHost(base) != "" {
			continue
		}
		if _, err := output(ctx, d.s.env, d.cfg.docker(), "image", "inspect", base); err == nil {
			continue
		}
		path := base
		if !strings.Contains(path, "/") {
			path = "library/" + path
		}
		mirrored := d.cfg.Mirror + "/" + path
		fmt.Fprintf(out, "Pulling %s through mirror %s\n", base, d.cfg.Mirror)
		if err := run(ctx, d.s.env, out, d.cfg.docker(), "pull", "-q", mirrored); err != nil {
			return err
		}
		if err := run(ctx, d.s.env, out, d.cfg.docker(), "tag", mirrored, base); err != nil {
			return err
		}
	}
	return nil
}

func (d *docker) Close() error { return d.s.Close() }
