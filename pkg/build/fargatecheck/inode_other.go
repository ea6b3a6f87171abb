//go:build !unix

package fargatecheck

import "io/fs"

// linkedInode: hard links are not read on this system.
func linkedInode(fs.FileInfo) (uint64, bool) { return 0, false }
