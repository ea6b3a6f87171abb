package build

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build/engine"
)

// docker runs the docker CLI with dockerConfig as DOCKER_CONFIG and returns its output lines.
func docker(t *testing.T, dockerConfig string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	out, err := cmd.Output()
	require.NoError(t, err, "docker %s", strings.Join(args, " "))
	return strings.Fields(string(out))
}

// TestEC2CacheOffBuildsOnTheHostEngine: with BuildCache=No an ec2 build is
// `docker build` with BuildKit on the host's engine: no buildx builder, no
// builder container, no image pulled from outside the machine, and a rebuild
// comes from the engine's own layer cache.
func TestEC2CacheOffBuildsOnTheHostEngine(t *testing.T) {
	h := newHarness(t)
	testenv.RequireDockerEngine(t)
	cfg := withBuildx(t) // the CLI has buildx, as in the ec2 build image
	builders := func() []string { return docker(t, cfg, "buildx", "ls", "--format", "{{.Name}}") }
	// The container a docker-container builder for this registry would run in
	// (other tests on the engine may run builders of their own meanwhile).
	sum := sha256.Sum256([]byte("\n" + engine.BuildKitdConfig(h.reg.Host, []string{h.push, h.cache})))
	container := "buildx_buildkit_convox-" + hex.EncodeToString(sum[:])[:10] + "0"
	containers := func() []string {
		return docker(t, cfg, "ps", "-a", "--filter", "name="+container, "--format", "{{.Names}}")
	}
	buildersBefore := builders()
	since := time.Now().Add(-time.Second).Format(time.RFC3339)

	url := h.upload("examples/cached-deps")
	build := func() (string, int, int) {
		opts := h.opts(url)
		opts.Cache = false
		opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
		opts.Engine.DockerConfig = cfg
		opts.Engine.Mirror = h.reg.Host
		tag := h.push + ":web." + opts.ID
		t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
		log, b := h.run(opts, false)
		require.Equal(t, "complete", b.Status, log)
		assert.NotEmpty(t, h.digest(tag), "image pushed")
		assert.NotContains(t, log, "buildx builder", "a builder was created or used")
		assert.NotContains(t, log, "WARNING")
		assert.Contains(t, log, "(docker)", "built by the docker engine")
		assert.Regexp(t, `(?m)^#\d+ `, log, "BuildKit progress, not the legacy builder")
		assert.NotContains(t, log, "Step 1/", "the legacy builder ran")
		s := summary(t, b, "web")
		assert.False(t, s.PersistentCache)
		t.Logf("build %s: %d steps, %d cached, %.1fs", b.Id, s.Steps, s.Cached, s.Seconds)
		return log, s.Steps, s.Cached
	}
	_, steps, _ := build()
	assert.Equal(t, 5, steps)
	log, steps, cached := build()
	assert.Equal(t, steps, cached, "rebuild from the engine's layer cache:\n%s", log)

	assert.ElementsMatch(t, buildersBefore, builders(), "buildx builders changed")
	assert.Empty(t, containers(), "a builder container ran")
	assert.Empty(t, h.tags(h.cache), "the cache repository was written")
	// Every image the engine pulled meanwhile came from a registry on this machine.
	pulls := docker(t, cfg, "events", "--since", since, "--until", time.Now().Format(time.RFC3339),
		"--filter", "type=image", "--filter", "event=pull", "--format", "{{.Actor.ID}}")
	for _, ref := range pulls {
		assert.True(t, strings.HasPrefix(ref, "127.0.0.1:") || strings.HasPrefix(ref, "localhost:"), "pulled %s from outside the machine", ref)
	}
}
