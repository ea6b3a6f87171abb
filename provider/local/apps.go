package local

import (
	"context"
	"fmt"
	"io"

	"github.com/convox/rack/pkg/structs"
)

// AppCreate creates an app; its images go to the repository named after it.
func (p *Provider) AppCreate(name string, opts structs.AppCreateOptions) (*structs.App, error) {
	if err := structs.CheckAppName(name); err != nil {
		return nil, err
	}
	if name == p.CacheRepo() {
		return nil, fmt.Errorf("app name %q is the build cache repository: %w", name, structs.ErrInvalid)
	}
	gen := "2"
	if opts.Generation != nil {
		gen = *opts.Generation
	}
	if gen != "1" && gen != "2" {
		return nil, fmt.Errorf("generation must be 1 or 2: %w", structs.ErrInvalid)
	}
	a := structs.App{Name: name, Generation: gen, Status: "running"}
	if err := p.store.AppPut(a, true); err != nil {
		return nil, err
	}
	return &a, nil
}

// AppDelete deletes an app with its records, objects and images.
func (p *Provider) AppDelete(name string) error {
	if _, err := p.store.AppGet(name); err != nil {
		return err
	}
	if p.builds.runningFor(name) {
		return fmt.Errorf("app %s has a build running: %w", name, structs.ErrInvalid)
	}
	if err := p.repos.Remove(context.Background(), name); err != nil {
		return fmt.Errorf("deleting images of %s: %w", name, err)
	}
	p.gc.request()
	if err := p.objects.DeleteApp(name); err != nil {
		return fmt.Errorf("deleting objects of %s: %w", name, err)
	}
	return p.store.AppDelete(name)
}

// AppGet returns an app.
func (p *Provider) AppGet(name string) (*structs.App, error) {
	return p.store.AppGet(name)
}

// AppList lists apps by name.
func (p *Provider) AppList() (structs.Apps, error) {
	return p.store.AppList()
}

// ObjectStore stores an object of an existing app.
func (p *Provider) ObjectStore(app, key string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error) {
	if _, err := p.store.AppGet(app); err != nil {
		return nil, err
	}
	return p.objects.Store(app, key, r)
}

// ObjectFetch opens an object.
func (p *Provider) ObjectFetch(app, key string) (io.ReadCloser, error) {
	return p.objects.Fetch(app, key)
}

// ObjectExists reports whether an object exists.
func (p *Provider) ObjectExists(app, key string) (bool, error) {
	return p.objects.Exists(app, key)
}

// ObjectDelete deletes an object.
func (p *Provider) ObjectDelete(app, key string) error {
	return p.objects.Delete(app, key)
}

// EventSend logs a rack event; the local rack has no event subscribers.
func (p *Provider) EventSend(action string, opts structs.EventSendOptions) error {
	return nil
}
