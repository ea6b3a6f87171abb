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
	if !strings.Contains(log, "Creating buildx builder "+name+" (docker-container)") {
		t.Fatalf("no docker-container builder created:\n%s", log)
	}
	container := "buildx_buildkit_" + name + "0"
	if out, err := exec.Command("docker", "inspect", "-f", "{{.HostConfig.NetworkMode}} {{.Config.Image}}", container).CombinedOutput(); err != nil || !strings.Contains(string(out), "host "+image) {
		t.Errorf("builder container %s: %v %s", container, err, out)
	}
	if h.digest(h.push+":web."+first.ID) == "" {
		t.Fatal("image not pushed")
	}

	// the builder is reused while it exists
	log, _ = build()
	if !strings.Contains(log, "Using buildx builder "+name) {
		t.Errorf("second build did not reuse %s", name)
	}

	removeBuilder(t, cfg, name)
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "name="+container).CombinedOutput(); strings.TrimSpace(string(out)) != "" {
		t.Fatalf("builder container still there after removal: %s", out)
	}
	log, third := build()
	if !strings.Contains(log, "Creating buildx builder "+name) {
		t.Errorf("builder not created again:\n%s", log)
	}
	b, _ := h.rack.BuildGet(h.app, third.ID)
	if s := summary(t, b, "web"); s.Steps != 5 || s.Cached != 5 || !s.PersistentCache {
		t.Errorf("rebuild after builder removal: %+v, want 5 of 5 cached from the registry\n%s", s, log)
	}
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
	if n := strings.Count(log, "WARNING: docker buildx is not available"); n != 1 {
		t.Errorf("%d buildx warnings, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, "Step 1/") || !strings.Contains(log, "(docker)") {
		t.Errorf("not a plain docker build:\n%s", log)
	}
	if h.digest(tag) == "" {
		t.Error("image not pushed")
	}
	if tags := h.tags(h.cache); len(tags) != 0 {
		t.Errorf("cache repo has tags %q", tags)
	}
	if s := summary(t, b, "web"); s.Steps < 5 || s.PersistentCache { // the legacy builder counts ARG, WORKDIR and CMD too
		t.Errorf("summary %+v", s)
	}
}

// TestFargateKaniko: kaniko in a fresh container per build; the first build
// fills the cache repo, the second reports cached layers from it, and a
// --no-cache build reports no cached step and leaves the cache repo as it was.
func TestFargateKaniko(t *testing.T) {
	h := newHarness(t)
	testenv.RequireDockerEngine(t)
	image := testenv.KanikoImage(t)
	url := h.upload("examples/cached-deps")
	build := func(noCache bool) (string, structs.BuildServiceSummary) {
		opts := h.opts(url)
		opts.Method = "fargate"
		opts.NoCache = noCache
		opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
		opts.Engine.KanikoImage = image
		opts.Engine.Mirror = h.reg.Host
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
