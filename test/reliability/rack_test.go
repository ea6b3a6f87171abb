package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/convox/rack/pkg/structs"
)

// memRack is the part of the rack API a build talks to, in memory, keeping
// every update so tests can look for half-written records.
type memRack struct {
	mu      sync.Mutex
	builds  map[string]*structs.Build
	objects map[string][]byte
	n       int
}

func newMemRack() *memRack {
	return &memRack{builds: map[string]*structs.Build{}, objects: map[string][]byte{}}
}

func (m *memRack) addBuild(app string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	id := fmt.Sprintf("B%03d", m.n)
	m.builds[app+"/"+id] = &structs.Build{Id: id, App: app, Status: structs.BuildStatusCreated}
	return id
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
	for dst, src := range map[*string]*string{&b.Entrypoint: o.Entrypoint, &b.Logs: o.Logs, &b.Manifest: o.Manifest,
		&b.Reason: o.Reason, &b.Release: o.Release, &b.Status: o.Status} {
		if src != nil {
			*dst = *src
		}
	}
	if o.Started != nil {
		b.Started = *o.Started
	}
	if o.Ended != nil {
		b.Ended = *o.Ended
	}
	if o.Cache != nil {
		if err := json.Unmarshal([]byte(*o.Cache), &b.Cache); err != nil {
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
	r := structs.Release{Id: "R" + *o.Build, App: app, Build: *o.Build}
	return &r, nil
}

func (m *memRack) object(app, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(m.objects[app+"/"+key])
}
