package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// builderStart starts a docker-container builder's BuildKit container with
// one `docker run`, while buildx records the builder beside it. buildx's own
// bootstrap (create, copy the config, start, poll) runs one step after the
// other; here the config is written by the container's own shell from its
// environment, and readiness is one `buildctl debug workers` that succeeds.
// The container has the name, state volume and flags buildx gives it, so
// buildx adopts it as the builder's node and `buildx rm` removes both.
type builderStart struct {
	env    []string
	docker string
	image  string
	// builder is the buildx builder's name; its node container is derived.
	builder string
	// toml is the buildkitd.toml the daemon starts with.
	toml string
	memo capsMemo
	out  io.Writer
}

// readyTimeout bounds the wait for a started BuildKit daemon to answer.
const readyTimeout = 90 * time.Second

// NodeContainer is the container buildx's docker-container driver names for
// a builder's one node; its state volume is this name with "_state". The
// build starts it, and the local rack's engine host removes it.
func NodeContainer(builder string) string { return "buildx_buildkit_" + builder + "0" }

// container is the builder's node container.
func (s builderStart) container() string { return NodeContainer(s.builder) }

// runArgs are the `docker run` arguments of the node container: privileged,
// as buildx creates it, or with every capability but CAP_SYS_RESOURCE where
// this engine refuses privileged containers.
func (s builderStart) runArgs(privileged bool) []string {
	name := s.container()
	args := []string{"run", "-d", "--name", name, "--init", "--network", "host",
		"-v", name + "_state:/var/lib/buildkit", "-e", "BUILDKITD_TOML=" + s.toml}
	if privileged {
		args = append(args, "--privileged")
	} else {
		args = append(args, "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
			"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw")
		for _, c := range capabilities {
			args = append(args, "--cap-add", c)
		}
	}
	// the image's shell writes the config, then becomes the daemon
	script := `printf '%s' "$BUILDKITD_TOML" > /etc/buildkit/buildkitd.toml && exec buildkitd --config /etc/buildkit/buildkitd.toml --allow-insecure-entitlement=network.host`
	return append(args, "--entrypoint", "/bin/sh", s.image, "-c", script)
}

// start runs the node container (or starts the one already there) and
// waits until its daemon answers.
func (s builderStart) start(ctx context.Context) error {
	name := s.container()
	privileged := !s.memo.refused()
	began := time.Now()
	msg, err := output(ctx, s.env, s.docker, s.runArgs(privileged)...)
	switch {
	case err == nil:
	case strings.Contains(msg, "is already in use"):
		// an earlier build's builder of this name: start it if stopped
		if msg, err := output(ctx, s.env, s.docker, "start", name); err != nil {
			return fmt.Errorf("starting builder container %s: %w: %s", name, err, strings.TrimSpace(msg))
		}
	case privileged && strings.Contains(msg, "unable to apply caps"):
		fmt.Fprintln(s.out, "This Docker engine refuses privileged containers; starting the builder with explicit capabilities")
		if msg, err := output(ctx, s.env, s.docker, "rm", "-f", name); err != nil {
			return fmt.Errorf("removing builder container %s: %w: %s", name, err, strings.TrimSpace(msg))
		}
		if msg, err := output(ctx, s.env, s.docker, s.runArgs(false)...); err != nil {
			return fmt.Errorf("running builder container %s: %w: %s", name, err, strings.TrimSpace(msg))
		}
		s.memo.save()
	default:
		return fmt.Errorf("running builder container %s: %w: %s", name, err, strings.TrimSpace(msg))
	}
	if !privileged {
		fmt.Fprintln(s.out, "This Docker engine refuses privileged containers (learned on an earlier build); the builder runs with explicit capabilities")
	}
	running := time.Since(began)
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Builder container %s running in %.1fs, BuildKit answering in %.1fs\n", name, running.Seconds(), time.Since(began).Seconds())
	return nil
}

// waitReady waits until the daemon lists its workers: one `docker exec`
// whose shell asks every 20 ms, as each exec costs the engine 0.13 to
// 0.19 s. A container that stopped, or a daemon silent past readyTimeout,
// fails with the daemon's last logs.
func (s builderStart) waitReady(ctx context.Context) error {
	name := s.container()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout+10*time.Second)
	defer cancel()
	msg, err := output(ctx, s.env, s.docker, "exec", name, "/bin/sh", "-c", readyScript(readyTimeout))
	if err == nil {
		return nil
	}
	logs, _ := output(context.Background(), s.env, s.docker, "logs", "--tail", "20", name)
	return fmt.Errorf("builder %s did not start: %w: %s\n%s", s.builder, err, strings.TrimSpace(msg), lastLines(logs, 20))
}

// readyScript asks the daemon for its workers until it answers or the
// timeout passes, then prints its last answer and fails.
func readyScript(timeout time.Duration) string {
	return fmt.Sprintf(`end=$(($(date +%%s)+%d)); until msg=$(buildctl debug workers 2>&1); do `+
		`if [ "$(date +%%s)" -ge "$end" ]; then echo "no answer in %s: $msg"; exit 1; fi; sleep 0.02; done`,
		int(timeout.Seconds()), timeout)
}
