package tarball

import (
	"io/fs"
	"os"
	"path/filepath"
)

// RemoveAll removes dir and what Extract put there. Extract keeps read-only
// directories read-only, which os.RemoveAll cannot empty unless it runs as
// root, so every directory gets u+rwx first.
func RemoveAll(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o700 != 0o700 {
				_ = os.Chmod(p, info.Mode().Perm()|0o700)
			}
		}
		return nil
	})
	return os.RemoveAll(dir)
}
