package buildlog

import (
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFollowUntilDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B1.log")
	var done atomic.Bool
	got := make(chan string)
	go func() {
		r, err := Open(path, true, done.Load)
		if err != nil {
			got <- err.Error()
			return
		}
		defer r.Close()
		data, _ := io.ReadAll(r)
		got <- string(data)
	}()
	time.Sleep(150 * time.Millisecond)
	w, err := Create(path)
	require.NoError(t, err)
	w.WriteString("step 1\n")
	time.Sleep(150 * time.Millisecond)
	w.WriteString("step 2\n")
	w.Close()
	done.Store(true)
	select {
	case s := <-got:
		require.EqualValues(t, "step 1\nstep 2\n", s, "followed %q", s)
	case <-time.After(5 * time.Second):
		require.Fail(t, "follower did not end after the build was done")
	}
	r, _ := Open(path, false, done.Load)
	data, _ := io.ReadAll(r)
	r.Close()
	require.EqualValues(t, "step 1\nstep 2\n", string(data), "stored log %q", data)
	r, _ = Open(filepath.Join(t.TempDir(), "none.log"), true, done.Load)
	data, _ = io.ReadAll(r)
	require.Empty(t, data, "missing log read %q", data)
}
