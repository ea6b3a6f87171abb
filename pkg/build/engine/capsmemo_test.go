package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapsMemo: a host that refused --privileged once remembers it per
// builder kind; a missing or broken memo reads as not learned.
func TestCapsMemo(t *testing.T) {
	dir := t.TempDir()
	m := capsMemo{dir: dir, kind: "abc"}
	assert.False(t, m.refused(), "nothing learned yet")
	m.save()
	assert.True(t, m.refused())
	assert.False(t, capsMemo{dir: dir, kind: "other"}.refused(), "another image or config learns for itself")
	require.NoError(t, os.WriteFile(m.path(), []byte("{broken"), 0o600))
	assert.False(t, m.refused(), "a broken memo is ignored")
	require.NoError(t, os.WriteFile(m.path(), []byte(`["buildkitd"]`), 0o600))
	assert.False(t, m.refused(), "an older memo (a command) is learned again")
	capsMemo{}.save()
	assert.False(t, capsMemo{}.refused(), "no DOCKER_CONFIG, no memo")
	entries, err := os.ReadDir(filepath.Dir(m.path()))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left")
}
