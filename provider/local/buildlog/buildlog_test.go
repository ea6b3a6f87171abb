package buildlog

import (
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
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
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("step 1\n")
	time.Sleep(150 * time.Millisecond)
	w.WriteString("step 2\n")
	w.Close()
	done.Store(true)
	select {
	case s := <-got:
		if s != "step 1\nstep 2\n" {
			t.Fatalf("followed %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follower did not end after the build was done")
	}
	r, _ := Open(path, false, done.Load)
	data, _ := io.ReadAll(r)
	r.Close()
	if string(data) != "step 1\nstep 2\n" {
		t.Fatalf("stored log %q", data)
	}
	r, _ = Open(filepath.Join(t.TempDir(), "none.log"), true, done.Load)
	if data, _ := io.ReadAll(r); len(data) != 0 {
		t.Fatalf("missing log read %q", data)
	}
}
