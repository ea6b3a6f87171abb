package tools

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookPrefersTheCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONVOX_TOOLS", dir)
	require.Equal(t, dir, Dir(), "paths do not follow CONVOX_TOOLS: %s %s %s", Dir(), BinDir(), DebianRootfs())
	require.Equal(t, filepath.Join(dir, "bin"), BinDir(), "paths do not follow CONVOX_TOOLS: %s %s %s", Dir(), BinDir(), DebianRootfs())
	require.Equal(t, filepath.Join(dir, "debian-rootfs.tar"), DebianRootfs(), "paths do not follow CONVOX_TOOLS: %s %s %s", Dir(), BinDir(), DebianRootfs())
	os.MkdirAll(BinDir(), 0o755)
	cached := filepath.Join(BinDir(), "sh")
	require.NoError(t, os.WriteFile(cached, []byte("#!/bin/true\n"), 0o755))
	assert.Equal(t, cached, Look("sh"), "Look(sh), want the cached one")
	got := Look("convox-no-such-tool")
	assert.Empty(t, got, "Look of a missing tool = %q, want empty", got)
}
