package build

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/convox/rack/pkg/structs"
)

// memRack is an in-memory rack API (builds, objects, releases) for the build task.
type memRack struct {
	mu       sync.Mutex
	builds   map[string]*structs.Build
	objects  map[string][]byte
	releases []structs.Release
}

func newMemRack() *memRack {
	return &memRack{builds: map[string]*structs.Build{}, objects: map[string][]byte{}}
}

func (m *memRack) addBuild(app, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.builds[app+"/"+id] = &structs.Build{Id: id, App: app, Status: structs.BuildStatusCreated}
}

func (m *memRack) BuildGet(app, id string) (*structs.Build, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.builds[app+"/"+id]
	if !ok {
		return nil, fmt.Errorf("build not found: %s", id)
	}
	c := *b
	return &c, nil
}

func (m *memRack) BuildUpdate(app, id string, o structs.BuildUpdateOptions) (*structs.Build, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.builds[app+"/"+id]
	if !ok {
		return nil, fmt.Errorf("build not found: %s", id)
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&b.Entrypoint, o.Entrypoint)
	set(&b.Logs, o.Logs)
	set(&b.Manifest, o.Manifest)
	set(&b.Reason, o.Reason)
	set(&b.Release, o.Release)
	set(&b.Status, o.Status)
	if o.Started != nil {
		b.Started = *o.Started
	}
	if o.Ended != nil {
		b.Ended = *o.Ended
	}
	if o.Cache != nil {
		if err := jsonUnmarshal(*o.Cache, &b.Cache); err != nil {
			return nil, err
		}
	}
	c := *b
	return &c, nil
}

func (m *memRack) ObjectFetch(app, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[app+"/"+key]
	if !ok {
		return nil, fmt.Errorf("object not found: %s", key)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (m *memRack) ObjectStore(app, key string, r io.Reader, _ structs.ObjectStoreOptions) (*structs.Object, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[app+"/"+key] = data
	return &structs.Object{Url: fmt.Sprintf("object://%s/%s", app, key)}, nil
}

func (m *memRack) ReleaseCreate(app string, o structs.ReleaseCreateOptions) (*structs.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := structs.Release{Id: fmt.Sprintf("R%d", len(m.releases)+1), App: app}
	if o.Build != nil {
		r.Build = *o.Build
	}
	m.releases = append(m.releases, r)
	return &r, nil
}

func (m *memRack) object(app, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(m.objects[app+"/"+key])
}
