package tools

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLookPrefersTheCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONVOX_TOOLS", dir)
	if Dir() != dir || BinDir() != filepath.Join(dir, "bin") || DebianRootfs() != filepath.Join(dir, "debian-rootfs.tar") {
		t.Fatalf("paths do not follow CONVOX_TOOLS: %s %s %s", Dir(), BinDir(), DebianRootfs())
	}
	os.MkdirAll(BinDir(), 0o755)
	cached := filepath.Join(BinDir(), "sh")
	if err := os.WriteFile(cached, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Look("sh"); got != cached {
		t.Errorf("Look(sh) = %q, want the cached %q", got, cached)
	}
	if got := Look("convox-no-such-tool"); got != "" {
		t.Errorf("Look of a missing tool = %q, want empty", got)
	}
}
