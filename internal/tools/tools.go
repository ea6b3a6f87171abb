// Package tools finds the pinned tools `make tools` installs (buildkitd,
// buildctl, docker-buildx, kaniko's executor, runc, busybox, the Debian
// rootfs) in their version-keyed cache, so the rack and the tests agree on one place.
package tools

import (
	"os"
	"os/exec"
	"path/filepath"
)

// Dir is the tool cache: $CONVOX_TOOLS, else ~/.cache/convox-rack-tools.
func Dir() string {
	if dir := os.Getenv("CONVOX_TOOLS"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "convox-rack-tools")
	}
	return filepath.Join(home, ".cache", "convox-rack-tools")
}

// BinDir holds the tools' executables.
func BinDir() string {
	return filepath.Join(Dir(), "bin")
}

// DebianRootfs is the debootstrap minbase rootfs tarball `make tools` builds.
func DebianRootfs() string {
	return filepath.Join(Dir(), "debian-rootfs.tar")
}

// Look finds a tool in the cache, then on PATH; "" when it is in neither.
func Look(name string) string {
	path := filepath.Join(BinDir(), name)
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		return path
	}
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	return ""
}
