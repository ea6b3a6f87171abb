package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/build/dockerfile"
	"github.com/convox/rack/pkg/build/fargatecheck"
	"github.com/convox/rack/pkg/buildtask"
)

// checkFargate runs the fargate check (pkg/build/fargatecheck) on every
// built service's Dockerfile before any build work: it prints a WARNING for
// each line kaniko builds differently from docker build, and fails the
// build, naming each file, line and construct, when kaniko cannot build one.
// A Dockerfile the check rewrites for kaniko is written under work, outside
// the context, and the group's build uses it (b.rewritten).
func (b *builder) checkFargate(work, src string, services []service) error {
	if b.opts.Method != buildtask.Fargate {
		return nil
	}
	var refused []fargatecheck.Finding
	seen := map[string]bool{}
	for _, s := range services {
		if s.Path == "" {
			continue
		}
		ctxDir, df, err := dockerfilePath(src, s)
		if err != nil {
			return err
		}
		file, err := dockerfile.Load(df)
		if err != nil {
			return fmt.Errorf("service %s: reading Dockerfile: %w", s.Name, err)
		}
		args := file.FilterArgs(append(append([]string{}, s.Args...), b.opts.BuildArgs...))
		target := b.target(file)
		key := groupKey(ctxDir, df, target, args)
		if seen[key] {
			continue
		}
		seen[key] = true
		name := df
		if rel, err := filepath.Rel(src, df); err == nil {
			name = filepath.ToSlash(rel)
		}
		res := fargatecheck.Check(fargatecheck.Input{File: file, Dockerfile: name, Context: ctxDir, Target: target, Args: args})
		for _, w := range res.Warnings() {
			fmt.Fprintf(b.out, "WARNING: on fargate the image differs from docker build's: %s\n", w)
		}
		refused = append(refused, res.Refusals()...)
		if res.Dockerfile != nil && len(res.Refusals()) == 0 {
			path := filepath.Join(work, "dockerfiles", fmt.Sprint(len(b.rewritten)), "Dockerfile")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, res.Dockerfile, 0o644); err != nil {
				return fmt.Errorf("writing the Dockerfile for kaniko: %w", err)
			}
			for _, r := range res.Rewrites() {
				fmt.Fprintf(b.out, "Rewriting for kaniko %s\n", r)
			}
			b.rewritten[key] = path
		}
	}
	if len(refused) > 0 {
		return &fargatecheck.RefusedError{Refusals: refused}
	}
	return nil
}

// dockerfilePath is a built service's context directory and Dockerfile,
// which must both be inside the source.
func dockerfilePath(src string, s service) (string, string, error) {
	ctxDir := filepath.Join(src, filepath.Clean(s.Path))
	name := s.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	df := filepath.Join(ctxDir, filepath.Clean(name))
	if rel, err := filepath.Rel(src, df); err != nil || strings.HasPrefix(rel, "..") {
		return "", "", fmt.Errorf("service %s: Dockerfile %q is outside the source", s.Name, name)
	}
	return ctxDir, df, nil
}

// target is the stage a service's build stops at: "development" for a
// development build of a Dockerfile that has it, else the last stage.
func (b *builder) target(file *dockerfile.File) string {
	if b.opts.Development && file.HasStage("development") {
		return "development"
	}
	return ""
}
