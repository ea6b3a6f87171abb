package dockerfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetCopyFrom(t *testing.T) {
	src := "FROM busybox AS builder\nRUN true\nFROM busybox\nCOPY\t--chown=1 \\\n  --from=0 \\\n  /a /b\nCOPY --from=0 /c /d\n"
	f, err := Parse([]byte(src))
	require.NoError(t, err)
	out, err := f.SetCopyFrom(1, 0, "builder")
	require.NoError(t, err)
	assert.Equal(t, "FROM busybox AS builder\nRUN true\nFROM busybox\nCOPY\t--chown=1 \\\n  --from=builder \\\n  /a /b\nCOPY --from=0 /c /d\n", string(out))

	out, err = f.SetCopyFrom(1, 1, "builder")
	require.NoError(t, err)
	assert.Equal(t, "FROM busybox AS builder\nRUN true\nFROM busybox\nCOPY\t--chown=1 \\\n  --from=0 \\\n  /a /b\nCOPY --from=builder /c /d\n", string(out))

	for _, bad := range []string{
		"FROM a AS b\nFROM a\nCOPY --from=\"0\" /a /b\n", // quoted
		"FROM a AS b\nFROM a\nCOPY --from=\\0 /a /b\n",   // escaped
	} {
		f, err := Parse([]byte(bad))
		require.NoError(t, err, bad)
		_, err = f.SetCopyFrom(1, 0, "b")
		assert.Error(t, err, bad)
	}
	_, err = f.SetCopyFrom(0, 0, "x")
	assert.Error(t, err, "a RUN has no --from")
}
