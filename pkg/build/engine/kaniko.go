package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// DefaultKanikoExecutor is where the kaniko image keeps its executor.
const DefaultKanikoExecutor = "/kaniko/executor"

// kaniko builds with the kaniko executor, which snapshots `/` and so must run
// inside a container: either this process already is one (the fargate task),
// or each build gets a fresh `docker run` of KanikoImage with the source mounted.
type kaniko struct {
	cfg Config
	dir string // the docker config directory with the logins
	// dirty is set while the container's filesystem holds what an executor
	// run left (a run without --cleanup, or one that failed): the next run
	// starts with a run that only wipes it.
	dirty bool
	// contained is set once an executor run passed kaniko's own check that
	// it runs in a container: the cleanup of that run removes what the check
	// reads, so later runs in the same container say --force.
	contained atomic.Bool
}

// NewKaniko returns the fargate engine.
func NewKaniko(cfg Config) (Engine, error) {
	k := &kaniko{cfg: cfg}
	if cfg.KanikoImage != "" {
		dir, err := os.MkdirTemp("", "convox-kaniko-")
		if err != nil {
			return nil, err
		}
		k.dir = dir
	} else {
		// kaniko wipes the filesystem between stages except its own directory.
		k.dir = filepath.Join(filepath.Dir(k.executor()), ".docker")
	}
	if err := writeDockerConfig(k.dir, "", cfg.Logins); err != nil {
		return nil, fmt.Errorf("writing kaniko docker config: %w", err)
	}
	return k, nil
}

func (k *kaniko) Name() string { return "kaniko" }

func (k *kaniko) executor() string {
	if k.cfg.KanikoExecutor != "" {
		return k.cfg.KanikoExecutor
	}
	return DefaultKanikoExecutor
}

func (k *kaniko) Build(ctx context.Context, req Request, out io.Writer) (Result, error) {
	root, ctxDir := req.Root, req.Context
	if k.cfg.KanikoImage != "" {
		// the source root is mounted at /workspace in the container
		var err error
		if ctxDir, err = inside(root, ctxDir, "/workspace"); err != nil {
			return Result{}, err
		}
	}
	common := []string{"--context", "dir://" + ctxDir}
	inContainer := k.cfg.KanikoImage == ""
	// In this container, kaniko must keep the source (it wipes / between
	// stages) and never snapshot it; wipe / after the build only when
	// another run follows here. A fresh `docker run` needs neither: the
	// source is a mount, and the container goes away.
	cleanup := inContainer && !req.Last
	if inContainer {
		common = append(common, "--ignore-path="+root)
		if k.dirty {
			if err := k.wipe(ctx, root, out); err != nil {
				return Result{}, err
			}
		}
	}
	if cleanup {
		common = append(common, "--cleanup")
	}
	common = append(common, "--ignore-path=/busybox")
	for _, a := range req.Args {
		common = append(common, "--build-arg", a)
	}
	if k.cfg.Mirror != "" {
		common = append(common, "--registry-mirror", k.cfg.Mirror)
	}
	cacheFlags := req.Policy.KanikoFlags()
	repo, guarded := req.Policy.Repo(), ""
	var guard *cacheGuard
	if repo != "" {
		var err error
		if guard, guarded, cacheFlags, err = k.guard(repo, cacheFlags); err != nil {
			return Result{}, err
		}
		defer guard.Close()
	}
	common = append(common, insecureFlags(k.cfg.Mirror, repo, guarded, req)...)
	common = append(common, cacheFlags...)
	common = append(common, KanikoFlags(cacheFlags)...)

	c := newCounter(out, kanikoRule)
	var log io.Writer = c
	var rw *replaceWriter
	if guard != nil {
		// kaniko's log names the cache registry, not the guard in front of it
		rw = &replaceWriter{out: c, old: []byte(guard.Addr() + "/"), new: []byte(RefHost(repo+"/") + "/")}
		log = rw
	}
	extra := []string{"--dockerfile", req.Dockerfile}
	for _, t := range req.Tags {
		extra = append(extra, "--destination", t)
	}
	if req.Target != "" {
		extra = append(extra, "--target", req.Target)
	}
	err := k.runExecutor(ctx, req.Root, append(extra, common...), c, log)
	if inContainer {
		// kaniko wipes / only after a final stage built without error
		k.dirty = err != nil || !cleanup
	}
	if rw != nil {
		_ = rw.Flush()
	}
	if guard != nil {
		if reason := guard.Tripped(); reason != "" {
			// names the cache repository and the timeout: the build loop's fault watch reads it
			fmt.Fprintf(c, "WARNING: the build cache %s stopped answering mid-build (%s); kaniko went on without it\n", repo, reason)
		}
	}
	return c.Result(), err
}

// wipe runs kaniko on an empty Dockerfile with --cleanup, which deletes
// everything a previous run left in this container's filesystem (kaniko's own
// wipe, with the same ignored paths), so the next build sees only its images.
func (k *kaniko) wipe(ctx context.Context, root string, out io.Writer) error {
	dir, err := os.MkdirTemp(root, "wipe-")
	if err != nil {
		return fmt.Errorf("cleaning the filesystem of the previous kaniko run: %w", err)
	}
	defer os.RemoveAll(dir)
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM scratch\n"), 0o644); err != nil {
		return fmt.Errorf("cleaning the filesystem of the previous kaniko run: %w", err)
	}
	fmt.Fprintln(out, "Cleaning the filesystem the previous kaniko run left")
	args := []string{"--dockerfile", df, "--context", "dir://" + dir, "--no-push", "--cleanup",
		"--ignore-path=" + root, "--ignore-path=/busybox"}
	var log bytes.Buffer
	if err := k.runExecutor(ctx, root, args, newCounter(io.Discard, kanikoRule), &log); err != nil {
		return fmt.Errorf("cleaning the filesystem of the previous kaniko run: %w: %s", err, lastLines(log.String(), 5))
	}
	k.dirty = false
	return nil
}

// runExecutor runs one kaniko build with args: in this container, or in a
// fresh `docker run` of KanikoImage with root mounted at /workspace.
func (k *kaniko) runExecutor(ctx context.Context, root string, args []string, c *counter, log io.Writer) error {
	if k.cfg.KanikoImage == "" {
		if k.contained.Load() {
			args = append(args, "--force")
		}
		before := c.Result().Steps
		err := run(ctx, withEnv(k.cfg.env(), "DOCKER_CONFIG="+k.dir), log, k.executor(), args...)
		if err == nil || c.Result().Steps > before {
			k.contained.Store(true) // it got past the check
		}
		return err
	}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--dockerfile" {
			var err error
			if args[i+1], err = inside(root, args[i+1], "/workspace"); err != nil {
				return err
			}
		}
	}
	name := "convox-kaniko-" + randomHex(6)
	dargs := []string{"run", "--rm", "--name", name, "--network", "host",
		"-v", root + ":/workspace", "-v", k.dir + ":/kaniko/.docker:ro",
		"-e", "DOCKER_CONFIG=/kaniko/.docker", "--entrypoint", DefaultKanikoExecutor, k.cfg.KanikoImage}
	err := run(ctx, k.cfg.env(), log, k.cfg.docker(), append(dargs, args...)...)
	if ctx.Err() != nil {
		_, _ = output(context.Background(), k.cfg.env(), k.cfg.docker(), "rm", "-f", name)
	}
	return err
}

// guard starts a cache guard in front of repo's registry and returns repo
// as reached through it, and the cache flags with the guard in place of the
// registry; the guard's address gets the registry's login.
func (k *kaniko) guard(repo string, flags []string) (*cacheGuard, string, []string, error) {
	host := RefHost(repo + "/")
	g, err := startCacheGuard(host, k.cfg.CacheIdle)
	if err != nil {
		return nil, "", nil, err
	}
	guarded := g.Addr() + strings.TrimPrefix(repo, host)
	logins := map[string]Login{}
	for h, l := range k.cfg.Logins {
		logins[h] = l
	}
	if l, ok := k.cfg.Logins[host]; ok {
		logins[g.Addr()] = l
	}
	if err := writeDockerConfig(k.dir, "", logins); err != nil {
		g.Close()
		return nil, "", nil, fmt.Errorf("writing kaniko docker config: %w", err)
	}
	out := make([]string, len(flags))
	for i, f := range flags {
		if f == "--cache-repo="+repo {
			f = "--cache-repo=" + guarded
		}
		out[i] = f
	}
	return g, guarded, out, nil
}

// insecureFlags name, one by one, the registries kaniko reaches over plain
// http: only loopback ones (the local rack's registry, its mirror, the
// cache guard). Kaniko's --insecure-registry covers pulls (a mirror too),
// pushes and cache lookups of that host; no flag makes every registry
// insecure, so ECR, S3 and Docker Hub keep TLS verification.
func insecureFlags(mirror, repo, guarded string, req Request) []string {
	refs := append([]string{mirror, repo, guarded}, req.Tags...)
	refs = append(refs, req.Bases...)
	var flags []string
	for _, h := range loopbackHosts(refs...) {
		flags = append(flags, "--insecure-registry", h)
	}
	return flags
}

// KanikoFlags are the executor flags the fargate engine adds to the
// policy's cache flags: build only the stages the target needs (a
// development stage costs a production build nothing), and with the cache,
// take COPY layers from it too, so a warm single-stage build never unpacks
// its base image. Kaniko 1.24 keys a COPY --from layer on the files it
// copies, so this holds for multi-stage Dockerfiles as well. Snapshots stay
// kaniko's default (full: every file's content hashed): a faster mode that
// compares only metadata misses a file rewritten with the same size and
// mtime (the parity case same-size-same-mtime).
func KanikoFlags(cacheFlags []string) []string {
	flags := []string{"--skip-unused-stages=true"}
	if len(cacheFlags) > 0 {
		flags = append(flags, "--cache-copy-layers=true")
	}
	return flags
}

// inside maps path under root to the same path under mount.
func inside(root, path, mount string) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the source directory", path)
	}
	return filepath.ToSlash(filepath.Join(mount, rel)), nil
}

func (k *kaniko) Close() error {
	if k.cfg.KanikoImage != "" {
		return os.RemoveAll(k.dir)
	}
	return nil
}

// lastLines is the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
