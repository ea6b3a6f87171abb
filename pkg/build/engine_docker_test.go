package build

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
)

// TestEC2DockerContainerBuilder is the EC2 host path: a docker-container
// builder on the host's Docker engine, created by the build; after the builder
// and its state are removed, a rebuild is CACHED from the registry.
func TestEC2DockerContainerBuilder(t *testing.T) {
	h := newHarness(t)
	testenv.RequireDockerEngine(t)
	cfg := withBuildx(t)
	image := testenv.BuildKitImage(t)
	url := h.upload("examples/cached-deps")
	build := func() (string, Options) {
		opts := h.opts(url)
		opts.BuildArgs = []string{"DEPS_WORK_MB=50"}
		opts.Engine.DockerConfig = cfg
		opts.Engine.BuildKitImage = image
		opts.Engine.Mirror = h.reg.Host
		log, b := h.run(opts, false)
		if name := builderName(log); name != "" {
			t.Cleanup(func() { removeBuilder(t, cfg, name) })
		}
		s := summary(t, b, "web")
		t.Logf("build %s: %d steps, %d cached, %.1fs", b.Id, s.Steps, s.Cached, s.Seconds)
		return log, opts
	}
	log, first := build()
	name := builderName(log)
	require.Contains(t, log, "Creating buildx builder "+name+" (docker-container)", "no docker-container builder created")
	container := "buildx_buildkit_" + name + "0"
	out, err := exec.Command("docker", "inspect", "-f", "{{.HostConfig.NetworkMode}} {{.Config.Image}}", container).CombinedOutput()
	if assert.NoError(t, err, "builder container %s: %s", container, out) {
		assert.Contains(t, string(out), "host "+image, "builder container %s", container)
	}
	require.NotEmpty(t, h.digest(h.push+":web."+first.ID), "image not pushed")

	// the builder is reused while it exists
	log, _ = build()
	assert.Contains(t, log, "Using buildx builder "+name, "second build did not reuse %s", name)

	removeBuilder(t, cfg, name)
	out, err = exec.Command("docker", "ps", "-aq", "--filter", "name="+container).CombinedOutput()
	require.NoError(t, err, "docker ps: %s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "builder container still there after removal")
	log, third := build()
	assert.Contains(t, log, "Creating buildx builder "+name, "builder not created again")
	b, err := h.rack.BuildGet(h.app, third.ID)
	require.NoError(t, err)
	s := summary(t, b, "web")
	assert.Equal(t, 5, s.Steps, "rebuild after builder removal, want 5 of 5 cached from the registry\n%s", log)
	assert.Equal(t, 5, s.Cached, "rebuild after builder removal, want 5 of 5 cached from the registry\n%s", log)
	assert.True(t, s.PersistentCache)
}

// TestEC2WithoutBuildx: no buildx plugin, against the Docker engine: plain
// docker build builds and pushes, one WARNING, nothing in the cache repo.
func TestEC2WithoutBuildx(t *testing.T) {
	h := newHarness(t)
	testenv.RequireDockerEngine(t)
	bases := []string{"busybox:latest", h.reg.Host + "/library/busybox:latest"}
	for _, img := range bases {
		if exec.Command("docker", "image", "inspect", img).Run() != nil {
			img := img
			t.Cleanup(func() { exec.Command("docker", "rmi", img).Run() })
		}
	}
	opts := h.opts(h.upload("examples/cached-deps"))
	opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
	opts.Engine.DockerConfig = t.TempDir() // no cli-plugins: no buildx
	opts.Engine.Mirror = h.reg.Host
	tag := h.push + ":web." + opts.ID
	t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
	log, b := h.run(opts, false)
	assert.Equal(t, 1, strings.Count(log, "WARNING: docker buildx is not available"), "buildx warnings:\n%s", log)
	assert.Contains(t, log, "Step 1/", "not a plain docker build")
	assert.Contains(t, log, "(docker)", "not a plain docker build")
	assert.NotEmpty(t, h.digest(tag), "image not pushed")
	assert.Empty(t, h.tags(h.cache), "cache repo has tags")
	s := summary(t, b, "web")
	assert.GreaterOrEqual(t, s.Steps, 5, "the legacy builder counts ARG, WORKDIR and CMD too")
	assert.False(t, s.PersistentCache)
}

// TestFargateKaniko: kaniko in the strict fargate runner; the first build
// fills the cache repo, the second reports cached layers from it, and a
// --no-cache build reports no cached step and leaves the cache repo as it was.
func TestFargateKaniko(t *testing.T) {
	h := newHarness(t)
	url := h.upload("examples/cached-deps")
	build := func(noCache bool) (string, structs.BuildServiceSummary) {
		opts := h.opts(url)
		opts.Method = "fargate"
		opts.NoCache = noCache
		opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
		log, b := h.run(opts, false)
		assert.NotEmpty(t, h.digest(h.push+":web."+b.Id), "image of %s not pushed", b.Id)
		s := summary(t, b, "web")
		t.Logf("kaniko build %s no-cache=%v: %d steps, %d cached, %.1fs", b.Id, noCache, s.Steps, s.Cached, s.Seconds)
		return log, s
	}
	log, cold := build(false)
	assert.Zero(t, cold.Cached, "cold build")
	require.NotEmpty(t, h.tags(h.cache), "cache repo empty after the first build:\n%s", log)

	before := h.manifests(h.cache)
	log, warm := build(false)
	assert.Positive(t, warm.Cached, "second build: %d of %d cached, want cached layers\n%s", warm.Cached, warm.Steps, log)

	log, fresh := build(true)
	assert.Equal(t, cold.Steps, fresh.Steps, "--no-cache build steps")
	assert.Zero(t, fresh.Cached, "--no-cache build reported cached steps:\n%s", log)
	assert.False(t, fresh.PersistentCache, "--no-cache build says it used the persistent cache")
	assert.NotContains(t, log, "Found cached layer")
	assert.Equal(t, before, h.manifests(h.cache), "--no-cache changed the cache repo")
}
