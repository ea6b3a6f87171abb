package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Touched copies the app at src (a path, or a name under examples/) and adds
// a file that no Dockerfile reads, holding note. A build of the copy has
// other inputs than a build of src, so the rack does not reuse the earlier
// build's images (pkg/build/inputs), yet every step of it is cached: what a
// test of a fully cached engine build needs.
func Touched(t testing.TB, src, note string) string {
	t.Helper()
	if !filepath.IsAbs(src) {
		src = filepath.Join(RepoRoot(), "examples", src)
	}
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := exec.Command("cp", "-a", src, dir).CombinedOutput()
	require.NoError(t, err, "copying %s: %s", src, out)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "NOTES.touched"), []byte(note+"\n"), 0o644))
	return dir
}
