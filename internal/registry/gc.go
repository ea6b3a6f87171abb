package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// CollectGarbage deletes the blobs of the registry stored in dir that no
// manifest refers to any more: what deleting images and repositories through
// the API leaves on disk. Nothing may push to the registry while it runs: a
// blob uploaded before its manifest would look unreferenced and go.
func CollectGarbage(ctx context.Context, dir string) error {
	if dir == "" {
		return errors.New("registry: garbage collection needs the storage directory")
	}
	drv := filesystem.New(filesystem.DriverParameters{RootDirectory: dir, MaxThreads: 4})
	ns, err := storage.NewRegistry(ctx, drv)
	if err != nil {
		return fmt.Errorf("registry: opening storage: %w", err)
	}
	if err := storage.MarkAndSweep(ctx, drv, ns, storage.GCOpts{Quiet: true}); err != nil {
		return fmt.Errorf("registry: collecting garbage: %w", err)
	}
	return nil
}
