package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
}

// NewEC2 returns the ec2 engine and whether it is buildx: without a working
// `docker buildx`, a plain `docker build` engine that cannot use the registry cache.
func NewEC2(ctx context.Context, cfg Config, hosts []string, out io.Writer) (Engine, bool, error) {
	s, err := newSession(cfg)
	if err != nil {
		return nil, false, err
	}
	if _, err := output(ctx, s.env, cfg.docker(), "buildx", "version"); err != nil {
		return &docker{cfg: cfg, s: s}, false, nil
	}
	if cfg.BuildKitHost == "" && cfg.BuildKitImage == "" {
		// buildx would pull its default BuildKit image from Docker Hub: never.
		s.Close()
		fmt.Fprintln(out, "WARNING: no BuildKit image for the cache builder (BUILDKIT_IMAGE, the rack's ImageRegistry); building on the host engine")
		eng, err := NewHost(ctx, cfg)
		return eng, false, err
	}
	b := &buildx{cfg: cfg, s: s}
	if err := b.setup(ctx, hosts, out); err != nil {
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
		return run(ctx, b.s.env, out, docker, "buildx", "create", "--name", b.builder, "--driver", "remote", addr)
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
	if _, err := output(ctx, b.s.env, docker, "buildx", "inspect", b.builder); err == nil {
		fmt.Fprintf(out, "Using buildx builder %s\n", b.builder)
		return nil
	}
	conf := filepath.Join(b.s.dir, "buildkitd.toml")
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		return err
	}
	opt := "network=host,image=" + b.cfg.BuildKitImage
	fmt.Fprintf(out, "Creating buildx builder %s (docker-container)\n", b.builder)
	if err := run(ctx, b.s.env, out, docker, "buildx", "create", "--name", b.builder,
		"--driver", "docker-container", "--driver-opt", opt, "--buildkitd-config", conf); err != nil {
		return err
	}
	memo := capsMemo{dir: b.cfg.hostDockerConfig(), kind: kind}
	if cmd := memo.load(); cmd != nil {
		// this engine refused --privileged before: go straight to explicit capabilities
		fmt.Fprintln(out, "This Docker engine refuses privileged containers (learned on an earlier build); starting the builder with explicit capabilities")
		if err := b.create(ctx, conf, cmd); err != nil {
			return err
		}
		return run(ctx, b.s.env, out, docker, "buildx", "inspect", "--bootstrap", b.builder)
	}
	msg, err := output(ctx, b.s.env, docker, "buildx", "inspect", "--bootstrap", b.builder)
	if err == nil {
		return nil
	}
	if !strings.Contains(msg, "unable to apply caps") {
		fmt.Fprint(out, msg)
		return fmt.Errorf("starting builder %s: %w", b.builder, err)
	}
	fmt.Fprintln(out, "This Docker engine refuses privileged containers; starting the builder with explicit capabilities")
	cmd, err := b.precreate(ctx, conf)
	if err != nil {
		return err
	}
	memo.save(cmd)
	return run(ctx, b.s.env, out, docker, "buildx", "inspect", "--bootstrap", b.builder)
}

// capabilities are every capability but CAP_SYS_RESOURCE, which some nested
// hosts withhold (so --privileged fails there).
var capabilities = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
	LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
	SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE
	AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ`)

// precreate replaces the builder container buildx could not start with one
// of the same name, volume, command and config that needs no --privileged;
// buildx then adopts the existing container. It returns the command.
func (b *buildx) precreate(ctx context.Context, conf string) ([]string, error) {
	docker := b.cfg.docker()
	name := "buildx_buildkit_" + b.builder + "0"
	cmdJSON, err := output(ctx, b.s.env, docker, "inspect", "-f", "{{json .Config.Cmd}}", name)
	if err != nil {
		return nil, fmt.Errorf("inspecting builder container %s: %s", name, strings.TrimSpace(cmdJSON))
	}
	var cmd []string
	if err := json.Unmarshal([]byte(strings.TrimSpace(cmdJSON)), &cmd); err != nil {
		return nil, fmt.Errorf("builder container %s command: %w", name, err)
	}
	if msg, err := output(ctx, b.s.env, docker, "rm", "-f", name); err != nil {
		return nil, fmt.Errorf("removing builder container %s: %s", name, msg)
	}
	return cmd, b.create(ctx, conf, cmd)
}

// create makes the builder's container as buildx names it, running cmd with
// explicit capabilities instead of --privileged, and puts the config in it.
func (b *buildx) create(ctx context.Context, conf string, cmd []string) error {
	docker := b.cfg.docker()
	name := "buildx_buildkit_" + b.builder + "0"
	image := b.cfg.BuildKitImage
	args := []string{"create", "--name", name, "--init", "--network", "host",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", name + "_state:/var/lib/buildkit"}
	for _, c := range capabilities {
		args = append(args, "--cap-add", c)
	}
	args = append(append(args, image), cmd...)
	if err := run(ctx, b.s.env, io.Discard, docker, args...); err != nil {
		return err
	}
	return run(ctx, b.s.env, io.Discard, docker, "cp", conf, name+":/etc/buildkit/buildkitd.toml")
}

// Builder is the buildx builder this engine builds on.
func (b *buildx) Builder() string { return b.builder }

func (b *buildx) Build(ctx context.Context, req Request, out io.Writer) (Result, error) {
	args := []string{"buildx", "build", "--builder", b.builder, "--progress=plain", "--push",
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
	err := run(ctx, withEnv(b.s.env, "BUILDX_NO_DEFAULT_ATTESTATIONS=1"), c, b.cfg.docker(), args...)
	return c.Result(), err
}

func (b *buildx) Close() error {
	if b.remove && b.builder != "" {
		_, _ = output(context.Background(), b.s.env, b.cfg.docker(), "buildx", "rm", b.builder)
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
