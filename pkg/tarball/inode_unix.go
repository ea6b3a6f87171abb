//go:build unix

package tarball

import (
	"io/fs"
	"syscall"
)

// fileID names an inode.
type fileID struct{ dev, ino uint64 }

// hardLinked gives the inode of a regular file with more than one link.
func hardLinked(info fs.FileInfo) (fileID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || !info.Mode().IsRegular() || st.Nlink < 2 {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // the types differ by platform
}
