package tarball

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Inside resolves the symlinks of path, a path under dir, and returns where
// it leads when that is still under dir. Extract keeps symlinks with any
// target, as docker's context does, so whatever reads an extracted tree
// itself (a manifest, a Dockerfile, a file it hashes) reads through Inside:
// a link to the host's /etc or /proc fails with ErrUnsafe instead.
func Inside(dir, path string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: %s is a link that leaves %s", ErrUnsafe, path, dir)
	}
	return real, nil
}
