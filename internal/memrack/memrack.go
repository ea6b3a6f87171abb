// Package memrack is an in-memory stand-in for the rack API a build task
// reports to (builds, objects, releases), so a benchmark or test measures the
// build itself and nothing of a provider.
package memrack

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/convox/rack/pkg/structs"
)

// Rack holds build records, objects and releases in memory.
type Rack struct {
	mu       sync.Mutex
	builds   map[string]*structs.Build
	order    []string // build keys, oldest first
	objects  map[string][]byte
	releases []structs.Release
}

// New returns an empty rack.
func New() *Rack {
	return &Rack{builds: map[string]*structs.Build{}, objects: map[string][]byte{}}
}

// AddBuild creates a build record as BuildCreate would.
func (m *Rack) AddBuild(app, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.builds[app+"/"+id] = &structs.Build{Id: id, App: app, Status: structs.BuildStatusCreated}
	m.order = append(m.order, app+"/"+id)
}

// BuildList returns copies of an app's builds, newest first, at most opts.Limit (0: all).
func (m *Rack) BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out structs.Builds
	for i := len(m.order) - 1; i >= 0; i-- {
		if b := m.builds[m.order[i]]; b.App == app {
			out = append(out, *b)
		}
		if opts.Limit != nil && *opts.Limit > 0 && len(out) == *opts.Limit {
			break
		}
	}
	return out, nil
}

// BuildGet returns a copy of a build record.
func (m *Rack) BuildGet(app, id string) (*structs.Build, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.builds[app+"/"+id]
	if !ok {
		return nil, fmt.Errorf("build %s: %w", id, structs.ErrNotFound)
	}
	c := *b
	return &c, nil
}

// BuildUpdate applies o under the build state rules (structs.Build.Apply).
func (m *Rack) BuildUpdate(app, id string, o structs.BuildUpdateOptions) (*structs.Build, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.builds[app+"/"+id]
	if !ok {
		return nil, fmt.Errorf("build %s: %w", id, structs.ErrNotFound)
	}
	if err := b.Apply(o); err != nil {
		return nil, err
	}
	c := *b
	return &c, nil
}

// ObjectFetch returns a stored object.
func (m *Rack) ObjectFetch(app, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[app+"/"+key]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", key, structs.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// ObjectStore keeps an object and returns its object:// URL.
func (m *Rack) ObjectStore(app, key string, r io.Reader, _ structs.ObjectStoreOptions) (*structs.Object, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading object %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[app+"/"+key] = data
	return &structs.Object{Url: fmt.Sprintf("object://%s/%s", app, key)}, nil
}

// ReleaseCreate records a release of a build.
func (m *Rack) ReleaseCreate(app string, o structs.ReleaseCreateOptions) (*structs.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := structs.Release{Id: fmt.Sprintf("R%d", len(m.releases)+1), App: app}
	if o.Build != nil {
		r.Build = *o.Build
	}
	m.releases = append(m.releases, r)
	return &r, nil
}

// Object returns a stored object as text ("" when absent), for assertions on build logs.
func (m *Rack) Object(app, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(m.objects[app+"/"+key])
}
