package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapsMemo: a host that refused --privileged once remembers the builder
// command per builder kind; a missing or broken memo reads as not learned.
func TestCapsMemo(t *testing.T) {
	dir := t.TempDir()
	m := capsMemo{dir: dir, kind: "abc"}
	assert.Nil(t, m.load(), "nothing learned yet")
	m.save([]string{"buildkitd", "--config", "/etc/buildkit/buildkitd.toml"})
	assert.Equal(t, []string{"buildkitd", "--config", "/etc/buildkit/buildkitd.toml"}, m.load())
	assert.Nil(t, capsMemo{dir: dir, kind: "other"}.load(), "another image or config learns for itself")
	require.NoError(t, os.WriteFile(m.path(), []byte("{broken"), 0o600))
	assert.Nil(t, m.load(), "a broken memo is ignored")
	assert.Nil(t, capsMemo{}.load(), "no DOCKER_CONFIG, no memo")
	entries, err := os.ReadDir(filepath.Dir(m.path()))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left")
}
