//go:build unix

package fargatecheck

import (
	"io/fs"
	"syscall"
)

// linkedInode is a file's inode when it has more than one link.
func linkedInode(info fs.FileInfo) (uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return 0, false
	}
	return uint64(st.Ino), true
}
