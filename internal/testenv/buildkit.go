package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BuildKit is a running buildkitd with its own root: a brand-new build host.
type BuildKit struct {
	// Addr is the daemon's address, e.g. unix:///tmp/bk123/buildkitd.sock.
	Addr string
	// Root is the daemon's state directory; a fresh one per daemon.
	Root string
	// Config is the buildkitd.toml the daemon runs with.
	Config string
	cmd    *exec.Cmd
	log    string
	t      testing.TB
	stop   chan struct{}
}

// StartBuildKit starts buildkitd on a fresh root with runc, trusting the
// loopback registry over http and mirroring docker.io to it; args are
// extra buildkitd flags (e.g. another snapshotter).
func StartBuildKit(t testing.TB, reg *Registry, args ...string) *BuildKit {
	t.Helper()
	buildkitd := Tool(t, "buildkitd")
	Tool(t, "runc")
	if os.Geteuid() != 0 {
		Missing(t, "root privileges for buildkitd with runc")
	}
	// A short directory: unix socket paths are limited to 108 bytes.
	sockDir, err := os.MkdirTemp("", "bk")
	require.NoError(t, err)
	root := filepath.Join(t.TempDir(), "root")
	b := &BuildKit{
		Addr:   "unix://" + filepath.Join(sockDir, "buildkitd.sock"),
		Root:   root,
		Config: filepath.Join(sockDir, "buildkitd.toml"),
		log:    filepath.Join(sockDir, "buildkitd.log"),
		t:      t,
		stop:   make(chan struct{}),
	}
	require.NoError(t, os.WriteFile(b.Config, []byte(BuildKitConfig(reg.Host)), 0o644))
	logFile, err := os.Create(b.log)
	require.NoError(t, err)
	defer logFile.Close()

	b.cmd = exec.Command(buildkitd,
		"--root", root,
		"--addr", b.Addr,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--config", b.Config,
	)
	b.cmd.Args = append(b.cmd.Args, args...)
	b.cmd.Env = append(os.Environ(), "PATH="+filepath.Join(ToolsDir(), "bin")+":"+os.Getenv("PATH"))
	b.cmd.Stdout = logFile
	b.cmd.Stderr = logFile
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, b.cmd.Start(), "starting buildkitd")
	exited := make(chan struct{})
	go func() { b.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		b.Stop()
		<-exited
		os.RemoveAll(sockDir)
	})
	b.stop = exited

	socket := strings.TrimPrefix(b.Addr, "unix://")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if conn, err := net.Dial("unix", socket); err == nil {
			conn.Close()
			return b
		}
		select {
		case <-exited:
			require.Fail(t, fmt.Sprintf("buildkitd exited at start: %s", b.Logs()))
		default:
		}
		require.False(t, time.Now().After(deadline), "buildkitd did not listen within 60s: %s", b.Logs())
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the daemon (SIGTERM, then SIGKILL) and everything it started.
func (b *BuildKit) Stop() {
	stopProcess(b.cmd, b.stop, 10*time.Second)
}

// Pid is the daemon's process id, for tests that kill it mid-build.
func (b *BuildKit) Pid() int {
	return b.cmd.Process.Pid
}

// Logs returns what the daemon has printed so far.
func (b *BuildKit) Logs() string {
	data, _ := os.ReadFile(b.log)
	return string(data)
}

// BuildKitConfig is a buildkitd.toml that trusts the loopback registry over
// http and uses it as the docker.io mirror.
func BuildKitConfig(registryHost string) string {
	return fmt.Sprintf(`[worker.oci]
  gc = false

[registry."%[1]s"]
  http = true
  insecure = true

[registry."docker.io"]
  mirrors = ["%[1]s"]
`, registryHost)
}
