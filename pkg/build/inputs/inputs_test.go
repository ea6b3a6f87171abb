package inputs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for path, body := range files {
		p := filepath.Join(dir, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

func app(t *testing.T) (string, Build) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"Dockerfile":       "FROM busybox\nCOPY src/ /app/\n",
		".dockerignore":    "ignored/\n*.log\n!keep.log\n",
		"src/main.txt":     "v1\n",
		"ignored/note.txt": "x\n",
		"debug.log":        "x\n",
		"keep.log":         "x\n",
	})
	return dir, Build{Method: "ec2", Generation: 2, Cache: true, CacheRepo: "r/cache", CacheTTL: "30", Push: "r/app",
		Images: []Image{{Services: []string{"web"}, Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
			Args: []string{"A=1"}, Bases: map[string]string{"busybox": "sha256:1"}}}}
}

func key(t *testing.T, b Build) string {
	t.Helper()
	k, err := Key(b)
	require.NoError(t, err)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, k)
	return k
}

// TestKeyChangesWithEveryInput: each input the build reads changes the key;
// a file .dockerignore excludes does not.
func TestKeyChangesWithEveryInput(t *testing.T) {
	dir, b := app(t)
	assert.Equal(t, key(t, b), key(t, b), "the key is stable")

	for name, change := range map[string]func(dir string, b *Build){
		"source file":     func(dir string, _ *Build) { write(t, dir, map[string]string{"src/main.txt": "v2\n"}) },
		"new file":        func(dir string, _ *Build) { write(t, dir, map[string]string{"src/other.txt": "x"}) },
		"re-included log": func(dir string, _ *Build) { write(t, dir, map[string]string{"keep.log": "y\n"}) },
		"mode":            func(dir string, _ *Build) { require.NoError(t, os.Chmod(filepath.Join(dir, "src/main.txt"), 0o755)) },
		"Dockerfile": func(dir string, _ *Build) {
			write(t, dir, map[string]string{"Dockerfile": "FROM busybox\nCOPY src/ /srv/\n"})
		},
		".dockerignore": func(dir string, _ *Build) { write(t, dir, map[string]string{".dockerignore": "ignored/\n"}) },
		"Dockerfile-specific ignore file": func(dir string, _ *Build) {
			write(t, dir, map[string]string{"Dockerfile.dockerignore": "ignored/\n*.log\n!keep.log\n"})
		},
		"arg":          func(_ string, b *Build) { b.Images[0].Args = []string{"A=2"} },
		"target":       func(_ string, b *Build) { b.Images[0].Target = "development" },
		"base digest":  func(_ string, b *Build) { b.Images[0].Bases = map[string]string{"busybox": "sha256:2"} },
		"services":     func(_ string, b *Build) { b.Images[0].Services = []string{"web", "worker"} },
		"method":       func(_ string, b *Build) { b.Method = "fargate" },
		"cache":        func(_ string, b *Build) { b.Cache = false },
		"cache repo":   func(_ string, b *Build) { b.CacheRepo = "r/other" },
		"cache ttl":    func(_ string, b *Build) { b.CacheTTL = "40" },
		"development":  func(_ string, b *Build) { b.Development = true },
		"generation":   func(_ string, b *Build) { b.Generation = 1 },
		"repository":   func(_ string, b *Build) { b.Push = "r/other" },
		"symlink":      func(dir string, _ *Build) { require.NoError(t, os.Symlink("main.txt", filepath.Join(dir, "src/link"))) },
		"empty folder": func(dir string, _ *Build) { require.NoError(t, os.Mkdir(filepath.Join(dir, "src/empty"), 0o755)) },
	} {
		t.Run(name, func(t *testing.T) {
			d, b := app(t)
			change(d, &b)
			_, b0 := app(t)
			assert.NotEqual(t, key(t, b0), key(t, b), "%s did not change the key", name)
		})
	}

	for name, change := range map[string]func(dir string){
		"ignored folder": func(dir string) {
			write(t, dir, map[string]string{"ignored/note.txt": "changed\n", "ignored/new": "n"})
		},
		"ignored log": func(dir string) { write(t, dir, map[string]string{"debug.log": "changed\n", "trace.log": "new"}) },
	} {
		t.Run(name, func(t *testing.T) {
			before := key(t, b)
			change(dir)
			assert.Equal(t, before, key(t, b), "a change to an ignored file changed the key")
		})
	}
}

// TestKeyIgnoresPathsAndOrder: the key is of contents, not of where the
// source was extracted nor of the order images were listed in.
func TestKeyIgnoresPathsAndOrder(t *testing.T) {
	d1, b1 := app(t)
	_, b2 := app(t)
	require.NotEqual(t, d1, b2.Images[0].Context)
	assert.Equal(t, key(t, b1), key(t, b2), "two extractions of one source")

	worker := b1.Images[0]
	worker.Services = []string{"worker"}
	worker.Target = "worker"
	b1.Images = append(b1.Images, worker)
	b2.Images = append([]Image{worker}, b2.Images...)
	assert.Equal(t, key(t, b1), key(t, b2), "image order")
}
