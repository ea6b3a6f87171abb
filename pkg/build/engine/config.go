package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Config is how an engine reaches its tools and registries; cmd/build fills
// it from the environment.
type Config struct {
	// Docker is the docker CLI (default "docker").
	Docker string
	// DockerConfig is the host's DOCKER_CONFIG: CLI plugins and buildx builders live there.
	DockerConfig string
	// BuildKitHost (BUILDKIT_HOST) makes the ec2 engine use a buildx remote builder on it.
	BuildKitHost string
	// BuildKitImage (BUILDKIT_IMAGE) is the image of the docker-container builder.
	BuildKitImage string
	// Builder (BUILDER_NAME) names the docker-container builder; an ephemeral
	// host gives each build its own, so it never waits for the last one's
	// removal (default: one per image and config, reused).
	Builder string
	// Mirror (BUILD_REGISTRY_MIRROR) is a registry host serving docker.io images.
	Mirror string
	// Logins are the registry credentials from BUILD_AUTH.
	Logins map[string]Login
	// KanikoExecutor (KANIKO_EXECUTOR) is the executor to exec when already in a container.
	KanikoExecutor string
	// KanikoImage (KANIKO_IMAGE) runs each kaniko build in a fresh `docker run` of this image.
	KanikoImage string
	// CacheIdle bounds how long kaniko's cache requests may go without
	// progress before the build goes on without the cache (default DefaultCacheIdle).
	CacheIdle time.Duration
	// Env is the environment child processes start from (default os.Environ()).
	Env []string
}

func (c Config) docker() string {
	if c.Docker == "" {
		return "docker"
	}
	return c.Docker
}

func (c Config) env() []string {
	if c.Env == nil {
		return os.Environ()
	}
	return c.Env
}

// hostDockerConfig is the DOCKER_CONFIG the docker CLI would use.
func (c Config) hostDockerConfig() string {
	if c.DockerConfig != "" {
		return c.DockerConfig
	}
	for _, kv := range c.env() {
		if v, ok := strings.CutPrefix(kv, "DOCKER_CONFIG="); ok && v != "" {
			return v
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker")
}

// withEnv returns env with the given KEY=value pairs replacing any earlier ones.
func withEnv(env []string, kvs ...string) []string {
	out := make([]string, 0, len(env)+len(kvs))
	for _, e := range env {
		keep := true
		for _, kv := range kvs {
			k, _, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(e, k+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, kvs...)
}

// run executes name args with env, streaming output to out; the process group is
// killed when ctx ends, the child when this process dies. A failure's error
// ends with the tool's last error-looking output line.
func run(ctx context.Context, env []string, out io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	tail := newLastError(out)
	cmd.Stdout = tail
	cmd.Stderr = tail
	cmd.SysProcAttr = procAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		if line := tail.Line(); line != "" {
			return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), firstArgs(args), err, line)
		}
		return fmt.Errorf("%s %s: %w", filepath.Base(name), firstArgs(args), err)
	}
	return nil
}

// firstArgs names a command in an error without its (possibly long) arguments.
func firstArgs(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// output runs a command and returns its combined output.
func output(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}
