package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// buildx builds with `docker buildx build --push` on a builder that can
// export a registry cache: a remote one on BUILDKIT_HOST, or a
// docker-container builder on the host's engine created once and reused.
type buildx struct {
	cfg     Config
	s       *session
	builder string
	remove  bool
	cli     buildxCLI
}

// NewEC2 returns the ec2 engine and whether it is buildx: without a working
// `docker buildx`, a plain `docker build` engine that cannot use the registry cache.
func NewEC2(ctx context.Context, cfg Config, hosts []string, out io.Writer) (Engine, bool, error) {
	s, err := newSession(cfg)
	if err != nil {
		return nil, false, err
	}
	cli := findBuildx(s.dir, cfg.docker())
	noImage := cfg.BuildKitHost == "" && cfg.BuildKitImage == ""
	// buildx through the docker CLI, or no BuildKit image to run it with: ask
	// now whether it works. A plugin binary found standalone is asked only if
	// creating the builder fails, which saves 0.08 s on every build.
	if (cli.viaDocker() || noImage) && !cli.works(ctx, s.env) {
		return &docker{cfg: cfg, s: s}, false, nil
	}
	if noImage {
		// buildx would pull its default BuildKit image from Docker Hub: never.
		s.Close()
		fmt.Fprintln(out, "WARNING: no BuildKit image for the cache builder (BUILDKIT_IMAGE, the rack's ImageRegistry); building on the host engine")
		eng, err := NewHost(ctx, cfg)
		return eng, false, err
	}
	b := &buildx{cfg: cfg, s: s, cli: cli}
	if err := b.setup(ctx, hosts, out); err != nil {
		if ctx.Err() == nil && !cli.works(ctx, s.env) {
			// the plugin found does not run: no buildx after all
			return &docker{cfg: cfg, s: s}, false, nil
		}
		b.Close()
		return nil, false, err
	}
	return b, true, nil
}

func (b *buildx) Name() string { return "buildx" }

func (b *buildx) setup(ctx context.Context, hosts []string, out io.Writer) error {
	docker := b.cfg.docker()
	if addr := b.cfg.BuildKitHost; addr != "" {
		b.builder = "convox-remote-" + randomHex(4)
		b.remove = true
		fmt.Fprintf(out, "Creating buildx builder %s on %s\n", b.builder, addr)
		name, args := b.cli.command("create", "--name", b.builder, "--driver", "remote", addr)
		return run(ctx, b.s.env, out, name, args...)
	}
	toml := BuildKitdConfig(b.cfg.Mirror, hosts)
	kind := shortHash(b.cfg.BuildKitImage + "\n" + toml)
	b.builder = "convox-" + kind
	if b.cfg.Builder != "" {
		b.builder = b.cfg.Builder
	}
	unlock, err := lockBuilder(b.cfg.hostDockerConfig(), b.builder)
	if err != nil {
		return err
	}
	defer unlock()
	conf := filepath.Join(b.s.dir, "buildkitd.toml")
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		return err
	}
	// buildx records the builder first, then the container starts. buildx
	// create reads its node's state: a container it finds running but not
	// yet answering costs it a gRPC reconnect back-off (1 to 2 s), while a
	// missing one is a 0.06 s lookup.
	if err := b.record(ctx, conf, out); err != nil {
		return fmt.Errorf("starting builder %s: %w", b.builder, err)
	}
	st := builderStart{env: b.s.env, docker: docker, image: b.cfg.BuildKitImage, builder: b.builder,
		toml: toml, memo: capsMemo{dir: b.cfg.hostDockerConfig(), kind: kind}, out: out}
	if err := st.start(ctx); err != nil {
		return fmt.Errorf("starting builder %s: %w", b.builder, err)
	}
	return nil
}

// record makes the buildx builder record, unless it exists (an earlier
// build's builder of this name).
func (b *buildx) record(ctx context.Context, conf string, out io.Writer) error {
	name, args := b.cli.command("create", "--name", b.builder,
		"--driver", "docker-container", "--driver-opt", "network=host,image="+b.cfg.BuildKitImage,
		"--buildkitd-config", conf)
	msg, err := output(ctx, b.s.env, name, args...)
	switch {
	case err == nil:
		fmt.Fprintf(out, "Creating buildx builder %s (docker-container)\n", b.builder)
	case strings.Contains(msg, "existing instance"):
		fmt.Fprintf(out, "Using buildx builder %s\n", b.builder)
	default:
		return fmt.Errorf("creating buildx builder %s: %w: %s", b.builder, err, strings.TrimSpace(msg))
	}
	return nil
}

// capabilities are every capability but CAP_SYS_RESOURCE, which some nested
// hosts withhold (so --privileged fails there).
var capabilities = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
	LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
	SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE
	AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ`)

// Builder is the buildx builder this engine builds on.
func (b *buildx) Builder() string { return b.builder }

func (b *buildx) Build(ctx context.Context, req Request, out io.Writer) (Result, error) {
	args := []string{"build", "--builder", b.builder, "--progress=plain", "--push",
		"--provenance=false", "--sbom=false", "-f", req.Dockerfile}
	for _, t := range req.Tags {
		args = append(args, "-t", t)
	}
	if req.Target != "" {
		args = append(args, "--target", req.Target)
	}
	for _, a := range req.Args {
		args = append(args, "--build-arg", a)
	}
	args = append(args, req.Policy.BuildxFlags(req.CacheRefs)...)
	args = append(args, req.Context)
	c := newCounter(out, buildkitRule)
	name, args := b.cli.command(args...)
	err := run(ctx, withEnv(b.s.env, "BUILDX_NO_DEFAULT_ATTESTATIONS=1"), c, name, args...)
	return c.Result(), err
}

func (b *buildx) Close() error {
	if b.remove && b.builder != "" {
		name, args := b.cli.command("rm", b.builder)
		_, _ = output(context.Background(), b.s.env, name, args...)
	}
	return b.s.Close()
}

// BuildKitdConfig is the buildkitd.toml of a docker-container builder: the
// docker.io mirror, and plain http for loopback registries.
func BuildKitdConfig(mirror string, hosts []string) string {
	var sb strings.Builder
	if mirror != "" {
		fmt.Fprintf(&sb, "[registry.\"docker.io\"]\n  mirrors = [%q]\n\n", mirror)
	}
	all := loopbackHosts(append([]string{mirror}, hosts...)...)
	sort.Strings(all)
	for _, h := range all {
		fmt.Fprintf(&sb, "[registry.%q]\n  http = true\n  insecure = true\n\n", h)
	}
	return sb.String()
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
