package testenv

import (
	"archive/tar"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stand-in Debian base has the root Debian's image has: a directory
// owned by root, mode 0755. kaniko copies the root's mode into every layer
// it writes, so a 0700 root here would be in every fargate layer.
func TestDebianRootfsRoot(t *testing.T) {
	f, err := os.Open(DebianRootfsTar(t))
	require.NoError(t, err)
	defer f.Close()
	h, err := tar.NewReader(f).Next()
	require.NoError(t, err)
	require.Equal(t, "./", h.Name, "the tarball starts with its root")
	assert.Equal(t, byte(tar.TypeDir), h.Typeflag)
	assert.Equal(t, int64(0o755), h.Mode&0o7777)
	assert.Equal(t, 0, h.Uid)
	assert.Equal(t, 0, h.Gid)
}
