// Package builder runs build tasks for the local rack: cmd/build as a child
// process on a BuildKit daemon or the Docker engine (the ec2 method), or in a
// fresh container with kaniko (the fargate method).
package builder

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildKitd is a buildkitd the rack supervises: started on its own root with
// runc, restarted if it dies, stopped with the rack.
type BuildKitd struct {
	// Binary is the buildkitd executable; PATH must reach runc.
	Binary string
	// Root is the daemon's state; a fresh directory is a brand-new build host.
	Root string
	// Config is the buildkitd.toml text (registry mirror, http registries).
	Config string
	// Env is the daemon's environment.
	Env []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	sock   string
	log    string
}

// Addr is the daemon's address for BUILDKIT_HOST.
func (b *BuildKitd) Addr() string {
	return "unix://" + b.sock
}

// Start launches the daemon and waits until it listens.
func (b *BuildKitd) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := os.MkdirAll(b.Root, 0o700); err != nil {
		return fmt.Errorf("buildkitd root: %w", err)
	}
	// unix socket paths are limited to 108 bytes: keep it short.
	dir, err := os.MkdirTemp("", "convox-bk")
	if err != nil {
		return fmt.Errorf("buildkitd socket dir: %w", err)
	}
	b.sock = filepath.Join(dir, "buildkitd.sock")
	b.log = filepath.Join(b.Root, "buildkitd.log")
	conf := filepath.Join(dir, "buildkitd.toml")
	if err := os.WriteFile(conf, []byte(b.Config), 0o644); err != nil {
		return fmt.Errorf("buildkitd config: %w", err)
	}
	logf, err := os.Create(b.log)
	if err != nil {
		return fmt.Errorf("buildkitd log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(b.Binary, "--root", b.Root, "--addr", b.Addr(),
		"--oci-worker=true", "--containerd-worker=false", "--config", conf)
	cmd.Env = b.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	// its own group, so Stop reaches the runc children; dies with the rack.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting buildkitd: %w", err)
	}
	b.cmd, b.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { cmd.Wait(); close(exited) }(b.exited)

	deadline := time.Now().Add(60 * time.Second)
	for {
		if conn, err := net.Dial("unix", b.sock); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("buildkitd exited at start: %s", tail(b.log))
		case <-ctx.Done():
			b.stopLocked()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.stopLocked()
			return fmt.Errorf("buildkitd did not listen within 60s: %s", tail(b.log))
		}
	}
}

// Running reports whether the daemon process is alive.
func (b *BuildKitd) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exited == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Exited is closed when the daemon last started exits; nil before any start.
func (b *BuildKitd) Exited() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exited
}

// Stop ends the daemon (SIGTERM, then SIGKILL of its group).
func (b *BuildKitd) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

func (b *BuildKitd) stopLocked() {
	if b.cmd == nil {
		return
	}
	pid := b.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-b.exited
	}
	os.RemoveAll(filepath.Dir(b.sock))
	b.cmd = nil
}

// tail returns the last lines of a log file for an error message.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}

// Config is a buildkitd.toml that trusts the rack's loopback registry over
// http and serves docker.io base images from it.
func Config(registryHost string) string {
	return fmt.Sprintf(`[worker.oci]
  gc = true

[registry.%[1]q]
  http = true
  insecure = true

[registry."docker.io"]
  mirrors = [%[1]q]
`, registryHost)
}
