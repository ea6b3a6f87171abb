// Package buildlog keeps each build's output in a file that readers can
// follow while the build runs and read whole after it ends or the rack restarts.
package buildlog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// PollInterval is how often a follower looks for new output: a build's
// end reaches its follower within it.
var PollInterval = 25 * time.Millisecond

// Create opens path for appending a build's output, creating it.
func Create(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening build log: %w", err)
	}
	return f, nil
}

// Open reads the log at path. With follow set it keeps reading new output
// until done reports the build ended, then returns what is left and EOF.
// A missing file reads as empty.
func Open(path string, follow bool, done func() bool) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !follow || done() {
			return io.NopCloser(eofReader{}), nil
		}
		// the build has not written yet: wait for the file
		for f == nil {
			time.Sleep(PollInterval)
			if f, err = os.Open(path); err != nil && done() {
				return io.NopCloser(eofReader{}), nil
			}
		}
	} else if err != nil {
		return nil, fmt.Errorf("opening build log: %w", err)
	}
	if !follow {
		return f, nil
	}
	return &follower{f: f, done: done, closed: make(chan struct{})}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// follower reads a growing file until the build is done.
type follower struct {
	f      *os.File
	done   func() bool
	closed chan struct{}
	last   bool
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
		if r.last {
			return 0, io.EOF
		}
		if r.done() {
			r.last = true // one more read catches output written just before the end
			continue
		}
		select {
		case <-r.closed:
			return 0, io.EOF
		case <-time.After(PollInterval):
		}
	}
}

// Close stops following; a blocked Read returns EOF.
func (r *follower) Close() error {
	select {
	case <-r.closed:
	default:
		close(r.closed)
	}
	return r.f.Close()
}
