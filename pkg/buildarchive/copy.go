package buildarchive

import (
	"fmt"
	"io"
	"os"
)

// copyFile writes exactly size bytes of r to a new file at path; a short or
// broken archive is ErrInvalid, a failing disk is not.
func copyFile(path string, r io.Reader, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	src := &readErrors{r: io.LimitReader(r, size)}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case src.err != nil:
		return fmt.Errorf("%v: %w", src.err, ErrInvalid)
	case err != nil:
		return err
	case n != size:
		return fmt.Errorf("short entry: %d of %d bytes: %w", n, size, ErrInvalid)
	}
	return nil
}

// readErrors remembers the error its reader returned, to tell archive faults from disk faults.
type readErrors struct {
	r   io.Reader
	err error
}

func (e *readErrors) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
