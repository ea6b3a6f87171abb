package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// TestFargateMultiStage: examples/multistage on kaniko, in one kaniko run,
// in the strict fargate runner.
// The development stage is never built; a warm build takes every step from
// the cache; a source change reaches the image.
func TestFargateMultiStage(t *testing.T) {
	h := newHarness(t)
	src := t.TempDir()
	out, err := exec.Command("cp", "-a", filepath.Join(testenv.RepoRoot(), "examples", "multistage")+"/.", src).CombinedOutput()
	require.NoError(t, err, string(out))
	build := func() (string, string, int, int) {
		opts := h.opts(h.upload(src))
		opts.Method = "fargate"
		opts.BuildArgs = []string{"DEPS_WORK_MB=20"}
		log, b := h.run(opts, false)
		s := summary(t, b, "web")
		t.Logf("kaniko build %s: %d steps, %d cached, %.1fs", b.Id, s.Steps, s.Cached, s.Seconds)
		return log, h.file(h.push+":web."+b.Id, "app/artifact.txt"), s.Steps, s.Cached
	}

	log, artifact, _, cached := build()
	assert.Zero(t, cached)
	assert.Contains(t, artifact, "hello")
	assert.NotContains(t, log, "MODE=development", "the unused development stage was built")

	log, again, steps, cached := build()
	assert.Equal(t, artifact, again)
	assert.Equal(t, 3, steps, "COPY and RUN of the builder stage, COPY --from of the target:\n%s", log)
	assert.Equal(t, steps, cached, log)

	require.NoError(t, os.WriteFile(filepath.Join(src, "src", "main.txt"), []byte("source change\n"), 0o644))
	log, changed, _, _ := build()
	assert.Contains(t, changed, "source change", log)
	assert.NotContains(t, changed, "hello")
}

// file reads path out of the flattened image at ref.
func (h *harness) file(ref, path string) string {
	h.t.Helper()
	data, err := testenv.ImageFile(ref, path, h.reg.Auth())
	require.NoError(h.t, err)
	return data
}
