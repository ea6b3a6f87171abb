package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reuseApp writes a small app with two services on one Dockerfile, a
// development stage and a .dockerignore.
func reuseApp(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	all := map[string]string{
		"convox.yml":    "services:\n  web:\n    build: .\n  worker:\n    build: .\n",
		".dockerignore": "ignored/\n",
		"Dockerfile": "FROM busybox AS development\nCOPY src/ /dev/\n\n" +
			"FROM busybox\nARG GREETING=hello\nCOPY src/ /app/\nRUN echo \"$GREETING\" > /greeting\n",
		"src/main.txt":     "v1\n",
		"ignored/note.txt": "first\n",
	}
	for k, v := range files {
		all[k] = v
	}
	for path, body := range all {
		p := filepath.Join(dir, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

// TestReuseUnchangedBuild: a build whose inputs equal an earlier complete
// build's reuses its images without an engine (same digests, its own tags,
// id and release, the log and record naming the build reused); a change to
// an ignored file reuses too; a changed file, arg, Dockerfile, target or base
// digest, and --no-cache, each build for real.
func TestReuseUnchangedBuild(t *testing.T) {
	h := newHarness(t)
	cfg := withBuildx(t)
	build := func(dir string, edit func(*Options)) (string, *structs.Build) {
		t.Helper()
		bk := testenv.StartBuildKit(t, h.reg)
		defer bk.Stop()
		opts := h.opts(h.upload(dir))
		opts.NoReuse = false
		opts.Engine.DockerConfig = cfg
		opts.Engine.BuildKitHost = bk.Addr
		opts.Engine.Mirror = h.reg.Host
		if edit != nil {
			edit(&opts)
		}
		log, b := h.run(opts, false)
		require.Equal(t, structs.BuildStatusComplete, b.Status, log)
		require.NotEmpty(t, b.Release, "build %s has no release", b.Id)
		require.Regexp(t, `^sha256:[0-9a-f]{64}$`, b.Inputs, "build %s recorded no inputs key", b.Id)
		return log, b
	}
	digests := func(id string) []string {
		return []string{h.digest(h.push + ":web." + id), h.digest(h.push + ":worker." + id)}
	}

	_, first := build(reuseApp(t, nil), nil)
	require.Empty(t, first.Reused)
	want := digests(first.Id)
	require.NotEmpty(t, want[0])

	log, same := build(reuseApp(t, nil), nil)
	assert.Equal(t, first.Id, same.Reused, "an unchanged build was not reused:\n%s", log)
	assert.Equal(t, first.Inputs, same.Inputs)
	assert.NotEqual(t, first.Id, same.Id)
	assert.NotEqual(t, first.Release, same.Release, "a reusing build has its own release")
	assert.Contains(t, log, "Reusing the images of build "+first.Id)
	assert.NotContains(t, log, "buildx builder", "an engine ran")
	assert.Equal(t, want, digests(same.Id), "the reused images differ from the earlier build's")
	require.Len(t, same.Cache, 2)
	for _, s := range same.Cache {
		assert.Equal(t, structs.CacheSourceReused, s.CacheSource)
		assert.Equal(t, s.Steps, s.Cached)
	}

	log, ignored := build(reuseApp(t, map[string]string{"ignored/note.txt": "changed\n"}), nil)
	assert.NotEmpty(t, ignored.Reused, "a change to an ignored file was built:\n%s", log)
	assert.Equal(t, want, digests(ignored.Id))

	real := func(what string, b *structs.Build, log string) {
		t.Helper()
		assert.Empty(t, b.Reused, "%s: reused build %s:\n%s", what, b.Reused, log)
		assert.Contains(t, log, "buildx builder", "%s: no engine ran", what)
	}
	for what, c := range map[string]struct {
		files map[string]string
		edit  func(*Options)
	}{
		"a changed file": {files: map[string]string{"src/main.txt": "v2\n"}},
		"a build arg":    {edit: func(o *Options) { o.BuildArgs = []string{"GREETING=hi"} }},
		"the Dockerfile": {files: map[string]string{"Dockerfile": "FROM busybox\nCOPY src/ /app/\n"}},
		"the target":     {edit: func(o *Options) { o.Development = true }},
		"--no-cache":     {edit: func(o *Options) { o.NoCache = true }},
	} {
		log, b := build(reuseApp(t, c.files), c.edit)
		real(what, b, log)
	}

	// the base tag moves: busybox with one more label is another digest
	ref, err := name.NewTag(h.reg.Host+"/library/busybox:latest", name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithAuth(h.reg.Auth()))
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.Config.Labels = map[string]string{"moved": "yes"}
	moved, err := mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, moved, remote.WithAuth(h.reg.Auth())))
	log, b := build(reuseApp(t, nil), nil)
	real("a moved base tag", b, log)
	assert.NotEqual(t, first.Inputs, b.Inputs)

	// and the build after it reuses that one, the newest with its inputs
	log, again := build(reuseApp(t, nil), nil)
	assert.Equal(t, b.Id, again.Reused, "log:\n%s", log)
}

// TestReuseOnFargate: the reuse happens before any engine, so an unchanged
// fargate build reuses the earlier kaniko build's images too.
func TestReuseOnFargate(t *testing.T) {
	h := newHarness(t)
	kaniko := testenv.KanikoImage(t)
	build := func() (string, *structs.Build) {
		opts := h.opts(h.upload(reuseApp(t, nil)))
		opts.NoReuse = false
		opts.Method = buildtask.Fargate
		opts.Engine.KanikoImage = kaniko
		opts.Engine.Mirror = h.reg.Host
		opts.WorkDir = t.TempDir()
		log, b := h.run(opts, false)
		require.Equal(t, structs.BuildStatusComplete, b.Status, log)
		return log, b
	}
	_, first := build()
	log, second := build()
	assert.Equal(t, first.Id, second.Reused, "log:\n%s", log)
	assert.Equal(t, h.digest(h.push+":web."+first.Id), h.digest(h.push+":web."+second.Id))
	assert.NotContains(t, log, "kaniko", "an engine ran")
}
