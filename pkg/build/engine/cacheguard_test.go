package engine

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplaceWriterWholeLines: the guard's address is replaced even when a
// write splits it, and every byte written is reported written.
func TestReplaceWriterWholeLines(t *testing.T) {
	var out bytes.Buffer
	rw := &replaceWriter{out: &out, old: []byte("127.0.0.1:4000/"), new: []byte("registry.example/")}
	for _, part := range []string{"Checking for cached layer 127.0.", "0.1:4000/cache:abc...\nNo cached", " layer found\nPushing 127.0.0.1:4000/cache:d"} {
		n, err := rw.Write([]byte(part))
		require.NoError(t, err)
		assert.Equal(t, len(part), n)
	}
	assert.Equal(t, "Checking for cached layer registry.example/cache:abc...\nNo cached layer found\n", out.String())
	require.NoError(t, rw.Flush())
	assert.Equal(t, "Checking for cached layer registry.example/cache:abc...\nNo cached layer found\nPushing registry.example/cache:d", out.String())
}
