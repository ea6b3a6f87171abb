package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/convox/rack/pkg/build/engine"
)

// SharedDaemon is one long-lived BuildKit daemon: a build host that keeps its
// local layer cache between builds. It is restarted if it died; what a dead
// daemon left running (its builds' step containers, their mounts) is removed
// as soon as it exits and again before it restarts.
type SharedDaemon struct {
	Daemon *BuildKitd
	// Runc is the runc binary that lists and deletes the daemon's step
	// containers; without it nothing is cleaned.
	Runc    string
	mu      sync.Mutex
	stopped bool
}

// Name names the host.
func (h *SharedDaemon) Name() string { return "buildkitd" }

// Acquire starts the daemon when it is not running, after removing what a
// previous daemon on the same root left behind.
func (h *SharedDaemon) Acquire(ctx context.Context, t Task) ([]string, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.Daemon.Running() {
		h.cleanLocked()
		if err := h.Daemon.Start(ctx); err != nil {
			return nil, nil, fmt.Errorf("starting the shared BuildKit daemon: %w", err)
		}
		h.stopped = false
		go h.watch(h.Daemon.Exited())
	}
	return []string{"BUILDKIT_HOST=" + h.Daemon.Addr()}, func() {}, nil
}

// watch cleans up after the daemon once exited is closed, unless it was
// stopped (Stop cleans) or a newer daemon already runs (Acquire cleaned).
func (h *SharedDaemon) watch(exited <-chan struct{}) {
	<-exited
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped || h.Daemon.Running() {
		return
	}
	h.cleanLocked()
}

// cleanLocked removes the step containers and mounts of a dead daemon; h.mu is held.
func (h *SharedDaemon) cleanLocked() {
	if h.Runc == "" {
		return
	}
	CleanRoot(h.Runc, h.Daemon.Root)
}

// Stop ends the daemon and removes what its builds left running.
func (h *SharedDaemon) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.Daemon.Stop()
	h.cleanLocked()
}

// EphemeralDaemon starts a brand-new BuildKit daemon on an empty root for each
// build and throws it away after, like an ephemeral EC2 build host.
type EphemeralDaemon struct {
	// Binary, Config and Env are those of each daemon.
	Binary, Config string
	Env            []string
	// Roots is the parent of the daemons' roots.
	Roots string
}

// Name names the host.
func (h *EphemeralDaemon) Name() string { return "fresh buildkitd" }

// Acquire starts the build's own daemon.
func (h *EphemeralDaemon) Acquire(ctx context.Context, t Task) ([]string, func(), error) {
	if err := os.MkdirAll(h.Roots, 0o700); err != nil {
		return nil, nil, fmt.Errorf("buildkitd roots: %w", err)
	}
	root, err := os.MkdirTemp(h.Roots, t.ID+"-")
	if err != nil {
		return nil, nil, fmt.Errorf("buildkitd root: %w", err)
	}
	d := &BuildKitd{Binary: h.Binary, Root: root, Config: h.Config, Env: h.Env}
	fmt.Fprintf(t.Out, "Starting a fresh BuildKit daemon for build %s\n", t.ID)
	if err := d.Start(ctx); err != nil {
		os.RemoveAll(root)
		return nil, nil, err
	}
	return []string{"BUILDKIT_HOST=" + d.Addr()}, func() {
		d.Stop()
		os.RemoveAll(root)
	}, nil
}

// Engine is the host's Docker engine, as on an EC2 build host: cmd/build
// creates a docker-container buildx builder on it once and reuses it. With
// Ephemeral, each build gets a builder of its own name, removed with its
// state in the background after the build: the next build starts a builder
// at once instead of waiting for a removal (leftovers of an earlier rack are
// removed once, before the first build).
type Engine struct {
	// Docker is the docker CLI.
	Docker string
	// DockerConfig holds the buildx plugin and the builders' records.
	DockerConfig string
	// BuildKitImage is the image of the docker-container builder.
	BuildKitImage string
	// Ephemeral starts every build on a new builder.
	Ephemeral bool
	// Env is the environment of docker commands.
	Env []string

	leftovers sync.Once
	removals  sync.WaitGroup
}

// Name names the host.
func (h *Engine) Name() string { return "docker engine" }

// Acquire points the build at the engine; when ephemeral, at a builder of
// the build's own, which the release removes in the background.
func (h *Engine) Acquire(ctx context.Context, t Task) ([]string, func(), error) {
	env := []string{"DOCKER_CONFIG=" + h.DockerConfig}
	if h.BuildKitImage != "" {
		env = append(env, "BUILDKIT_IMAGE="+h.BuildKitImage)
	}
	if !h.Ephemeral {
		return env, func() {}, nil
	}
	var err error
	h.leftovers.Do(func() { err = h.RemoveBuilders(ctx, t.Out) })
	if err != nil {
		return nil, nil, err
	}
	name := "convox-" + strings.ToLower(t.ID)
	h.removals.Add(1)
	release := func() {
		go func() {
			defer h.removals.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_ = h.removeBuilder(ctx, io.Discard, name)
		}()
	}
	return append(env, "BUILDER_NAME="+name), release, nil
}

// Wait waits for the removals of the builders of finished builds.
func (h *Engine) Wait() { h.removals.Wait() }

// removeBuilder removes one builder with its state; a missing one is fine.
// The state is emptied first, inside the node container: the engine's
// volume driver deletes a volume's files holding a lock that every volume
// mount waits for, so removing a full state volume (1.6 s after a cold
// build) would hold back the next build's builder. Then its container and
// state volume go, with docker: `buildx rm` holds buildx's store lock while
// it removes them, and every build starting a builder meanwhile would wait
// for that lock to record its own.
func (h *Engine) removeBuilder(ctx context.Context, out io.Writer, name string) error {
	env := append(append([]string{}, h.Env...), "DOCKER_CONFIG="+h.DockerConfig)
	node := engine.NodeContainer(name)
	var msg strings.Builder
	// best effort: whatever is left goes with the volume
	_ = runCommand(ctx, &msg, env, h.Docker, "exec", node, "/bin/sh", "-c", emptyState)
	msg.Reset()
	if err := runCommand(ctx, &msg, env, h.Docker, "rm", "--force", node); err != nil && !strings.Contains(msg.String(), "No such container") {
		fmt.Fprint(out, msg.String())
		return fmt.Errorf("removing builder container %s: %w", node, err)
	}
	msg.Reset()
	if err := runCommand(ctx, &msg, env, h.Docker, "volume", "rm", "--force", node+"_state"); err != nil {
		fmt.Fprint(out, msg.String())
		return fmt.Errorf("removing builder state %s_state: %w", node, err)
	}
	msg.Reset()
	if err := runCommand(ctx, &msg, env, h.Docker, "buildx", "rm", "--force", name); err != nil && !strings.Contains(msg.String(), "no builder") {
		fmt.Fprint(out, msg.String())
		return fmt.Errorf("removing builder %s: %w", name, err)
	}
	return nil
}

// emptyState deletes a node's BuildKit state at low priority, staying on
// the state volume's file system.
const emptyState = `nice -n 19 rm -rf --one-file-system /var/lib/buildkit/*`

// RemoveBuilders removes every convox buildx builder of DockerConfig with its
// state, as a finished build's builder is removed.
func (h *Engine) RemoveBuilders(ctx context.Context, out io.Writer) error {
	env := append(append([]string{}, h.Env...), "DOCKER_CONFIG="+h.DockerConfig)
	var list strings.Builder
	// one JSON object per builder (its nodes are inside it)
	if err := runCommand(ctx, &list, env, h.Docker, "buildx", "ls", "--format", "json"); err != nil {
		return fmt.Errorf("listing buildx builders: %w: %s", err, list.String())
	}
	for _, line := range strings.Split(list.String(), "\n") {
		var b struct{ Name string }
		if json.Unmarshal([]byte(line), &b) != nil {
			continue
		}
		name := b.Name
		if !strings.HasPrefix(name, "convox-") {
			continue
		}
		fmt.Fprintf(out, "Removing builder %s for a fresh build host\n", name)
		if err := h.removeBuilder(ctx, out, name); err != nil {
			return err
		}
	}
	return nil
}

// PluginDir makes dir a DOCKER_CONFIG whose cli-plugins hold buildx.
func PluginDir(dir, buildx string) error {
	plugins := filepath.Join(dir, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o700); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	link := filepath.Join(plugins, "docker-buildx")
	if target, err := os.Readlink(link); err == nil && target == buildx {
		return nil
	}
	// concurrent builds may get here together: make the link under a unique
	// name and rename it into place, which replaces atomically
	tmp, err := os.MkdirTemp(plugins, ".link-")
	if err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Symlink(buildx, filepath.Join(tmp, "docker-buildx")); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "docker-buildx"), link); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	return nil
}
