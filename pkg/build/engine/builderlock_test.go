package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second setup of the same builder waits for the first; another builder does not.
func TestLockBuilderSerialisesOneName(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockBuilder(dir, "convox-a")
	require.NoError(t, err)

	other, err := lockBuilder(dir, "convox-b")
	require.NoError(t, err, "another builder's lock is free")
	other()

	got := make(chan struct{})
	go func() {
		second, err := lockBuilder(dir, "convox-a")
		if err == nil {
			second()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the second setup did not wait for the first")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the second setup still waits after the first let go")
	}
	none, err := lockBuilder("", "convox-a")
	require.NoError(t, err)
	assert.NotNil(t, none)
	none()
}
