package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
)

// fargateApp writes a one-service app with the given Dockerfile and files.
func fargateApp(t *testing.T, df string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["convox.yml"] = "services:\n  web:\n    build: .\n"
	files["Dockerfile"] = df
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

// fargateOpts are options for a kaniko build on the harness's registry.
func (h *harness) fargateOpts(t *testing.T, dir string) Options {
	opts := h.opts(h.upload(dir))
	opts.Method = buildtask.Fargate
	opts.Engine.KanikoImage = testenv.KanikoImage(t)
	opts.Engine.Mirror = h.reg.Host
	return opts
}

// TestFargateRefusesUpFront: a Dockerfile kaniko cannot build as docker does
// fails on the fargate engine before kaniko runs, naming the file, the line
// and the construct, and suggesting the ec2 method.
func TestFargateRefusesUpFront(t *testing.T) {
	h := newHarness(t)
	dir := fargateApp(t, "FROM busybox\nWORKDIR /app\nRUN --mount=type=cache,target=/root/.cache \\\n  echo cached\nCOPY <<EOF /app/x\nx\nEOF\n", map[string]string{})
	log, b := h.run(h.fargateOpts(t, dir), true)
	assert.Equal(t, structs.BuildStatusFailed, b.Status)
	for _, want := range []string{
		"Dockerfile:3: RUN --mount=type=cache,target=/root/.cache: kaniko ignores --mount",
		"Dockerfile:5: COPY <<EOF: kaniko fails on heredocs",
		"convox rack params set BuildMethod=ec2",
	} {
		assert.Contains(t, log, want)
		assert.Contains(t, b.Reason, want)
	}
	assert.NotContains(t, log, "Building web", "kaniko ran before the refusal:\n%s", log)
	assert.Empty(t, h.tags(h.push), "a refused build pushed an image")
}

// TestFargateWarnsPerLine: a difference kaniko cannot avoid is built, with
// one WARNING naming the line; lines that cannot hit it get none.
func TestFargateWarnsPerLine(t *testing.T) {
	h := newHarness(t)
	dir := fargateApp(t, "FROM busybox\nCOPY app.txt /app/\nCOPY --chown=1:1 conf /conf\nCMD [\"cat\", \"/app/app.txt\"]\n",
		map[string]string{"app.txt": "hello\n", "conf/a": "a\n"})
	log, b := h.run(h.fargateOpts(t, dir), false)
	assert.Equal(t, structs.BuildStatusComplete, b.Status)
	assert.Equal(t, 1, strings.Count(log, "WARNING: on fargate"), log)
	assert.Contains(t, log, "WARNING: on fargate the image differs from docker build's: Dockerfile:3: COPY --chown=1:1 of a directory: kaniko gives the copied directory mode 0700")
	assert.Equal(t, "hello\n", h.file(h.push+":web."+b.Id, "app/app.txt"))
}

// TestFargateRewritesNumericFrom: COPY --from=<number> of a named stage is
// given to kaniko with the stage's name, and builds the image docker would.
func TestFargateRewritesNumericFrom(t *testing.T) {
	h := newHarness(t)
	dir := fargateApp(t, "FROM busybox AS builder\nRUN echo built > /out\nFROM busybox\nCOPY --from=0 /out /app/out\n", map[string]string{})
	log, b := h.run(h.fargateOpts(t, dir), false)
	assert.Contains(t, log, "Rewriting for kaniko Dockerfile:4: COPY --from=0 (given to kaniko as --from=builder)")
	assert.Equal(t, "built\n", h.file(h.push+":web."+b.Id, "app/out"))
	src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	require.NoError(t, err)
	assert.Contains(t, string(src), "--from=0", "the source is left as written")
}
