package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockBuilder holds a host-wide lock on a builder's name while one build
// finds, creates or starts it: builds that start together on one host share
// the builder, and without the lock each would create it (buildx refuses the
// second: "existing instance"). The lock lives beside the capabilities memo.
func lockBuilder(dockerConfig, name string) (func(), error) {
	if dockerConfig == "" {
		return func() {}, nil
	}
	dir := filepath.Join(dockerConfig, "convox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("builder lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "builder-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("builder lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("builder lock %s: %w", f.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
