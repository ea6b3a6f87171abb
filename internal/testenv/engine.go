package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/convox/rack/internal/engineimages"

	"github.com/stretchr/testify/require"
)

var (
	buildBinaryOnce sync.Once
	buildBinaryPath string
	buildBinaryErr  error
)

// BuildKitImage is the BuildKit image of docker-container builders on the engine.
func BuildKitImage(t testing.TB) string {
	t.Helper()
	tag, err := engineimages.BuildKit(engineimages.Sources{
		Docker:       RequireDockerEngine(t),
		DebianRootfs: DebianRootfsTar(t),
		Buildkitd:    Tool(t, "buildkitd"),
		Buildctl:     Tool(t, "buildctl"),
		Runc:         Tool(t, "runc"),
	})
	require.NoError(t, err)
	return tag
}

// KanikoImage is the fargate runner image on the engine, with this tree's build binary.
func KanikoImage(t testing.TB) string {
	t.Helper()
	tag, err := engineimages.Kaniko(engineimages.Sources{
		Docker:      RequireDockerEngine(t),
		Executor:    Tool(t, "executor"),
		BuildBinary: BuildBinary(t),
		Busybox:     BusyboxPath(t),
	})
	require.NoError(t, err)
	return tag
}

// BuildBinary builds cmd/build statically, once per test binary run.
func BuildBinary(t testing.TB) string {
	t.Helper()
	buildBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convox-build-bin-")
		if err != nil {
			buildBinaryErr = err
			return
		}
		buildBinaryPath = filepath.Join(dir, "build")
		cmd := exec.Command("go", "build", "-trimpath", "-o", buildBinaryPath, "./cmd/build")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildBinaryErr = fmt.Errorf("go build ./cmd/build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildBinaryErr)
	return buildBinaryPath
}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
