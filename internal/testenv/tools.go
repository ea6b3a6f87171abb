// Package testenv starts the real components tests need (a registry, a
// BuildKit daemon, base images, moto) on loopback for one test and stops them
// again, and finds the pinned tools that `make tools` installs.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convox/rack/internal/tools"

	"github.com/stretchr/testify/require"
)

// ToolsDir is the version-keyed tool cache `make tools` fills.
func ToolsDir() string {
	return tools.Dir()
}

// InCI reports whether the tests run under CI, where nothing may skip.
func InCI() bool {
	return os.Getenv("CI") == "true"
}

// Missing stops a test that lacks something it needs: a failure under CI, a skip elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("missing: "+format+" (run `make tools`)", args...)
	}
	t.Skipf("missing: "+format+" (run `make tools`)", args...)
}

// Tool returns the path of a pinned tool, or stops the test naming it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path := tools.Look(name)
	if path == "" {
		Missing(t, "tool %q", name)
	}
	return path
}

// DebianRootfsTar is the cached debootstrap minbase rootfs tarball.
func DebianRootfsTar(t testing.TB) string {
	t.Helper()
	path := tools.DebianRootfs()
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		Missing(t, "debian rootfs tarball %s", path)
	}
	return path
}

// BusyboxPath is the static busybox binary from Debian's busybox-static.
func BusyboxPath(t testing.TB) string {
	t.Helper()
	return Tool(t, "busybox")
}

// DockerConfigWithBuildx makes a DOCKER_CONFIG directory whose cli-plugins
// holds the pinned buildx, so `docker buildx` works without touching $HOME.
func DockerConfigWithBuildx(t testing.TB) string {
	t.Helper()
	buildx := Tool(t, "docker-buildx")
	dir := t.TempDir()
	plugins := filepath.Join(dir, "cli-plugins")
	require.NoError(t, os.MkdirAll(plugins, 0o755))
	require.NoError(t, os.Symlink(buildx, filepath.Join(plugins, "docker-buildx")))
	// builders made under this config (docker-container ones keep a container
	// running on the engine) go with the test
	t.Cleanup(func() { removeBuilders(dir) })
	return dir
}

// removeBuilders removes every buildx builder registered under a DOCKER_CONFIG.
func removeBuilders(dockerConfig string) {
	env := append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	ls := exec.Command("docker", "buildx", "ls", "--format", "{{.Name}}")
	ls.Env = env
	out, err := ls.Output()
	if err != nil {
		return
	}
	for _, name := range strings.Fields(string(out)) {
		if name == "default" || strings.HasPrefix(name, "\\_") {
			continue
		}
		rm := exec.Command("docker", "buildx", "rm", "--force", name)
		rm.Env = env
		rm.Run()
	}
}

// RequireDockerEngine stops the test unless a Docker engine answers.
func RequireDockerEngine(t testing.TB) string {
	t.Helper()
	docker := Tool(t, "docker")
	if out, err := exec.Command(docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		Missing(t, "a running Docker engine (docker info: %v: %s)", err, out)
	}
	return docker
}
