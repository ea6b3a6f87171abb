// Package apitest is an in-memory rack (a structs.Provider) that records the
// calls it gets, for tests of the API, the SDK and the CLI that need a rack
// without a machine behind it. Builds run in a goroutine and stream logs.
package apitest

import (
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/convox/rack/pkg/structs"
)

// Call is one provider method invocation.
type Call struct {
	Method string
	Args   []any
}

// BuildResult is how a fake build ends.
type BuildResult struct {
	Logs   []string
	Status string // structs.BuildStatusComplete or structs.BuildStatusFailed
	Reason string
	Cache  []structs.BuildServiceSummary
}

// Provider is the in-memory rack. The zero value is not usable: call New.
type Provider struct {
	// Build decides how a build started by BuildCreate ends; by default it
	// completes with two log lines.
	Build func(app string, opts structs.BuildCreateOptions) BuildResult
	// UpdatingPolls is how many SystemGet calls report "updating" after a SystemUpdate.
	UpdatingPolls int

	mu       sync.Mutex
	cond     *sync.Cond
	calls    []Call
	system   structs.System
	updating int
	apps     map[string]*structs.App
	builds   map[string][]*structs.Build // per app, oldest first
	releases map[string][]*structs.Release
	objects  map[string][]byte // app + "/" + key
	logs     map[string][]byte // app + "/" + build id
}

var _ structs.Provider = (*Provider)(nil)

// New returns an empty rack named name with the given parameters.
func New(name string, parameters map[string]string) *Provider {
	p := &Provider{
		system: structs.System{
			Name: name, Provider: "test", Status: "running", Version: "test",
			Parameters: maps.Clone(parameters), Outputs: map[string]string{},
		},
		apps:     map[string]*structs.App{},
		builds:   map[string][]*structs.Build{},
		releases: map[string][]*structs.Release{},
		objects:  map[string][]byte{},
		logs:     map[string][]byte{},
	}
	if p.system.Parameters == nil {
		p.system.Parameters = map[string]string{}
	}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Calls returns the recorded calls to method ("" for all).
func (p *Provider) Calls(method string) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (p *Provider) record(method string, args ...any) {
	p.calls = append(p.calls, Call{Method: method, Args: args})
}

// ID returns a Convox style id: prefix and 10 uppercase letters.
func ID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return prefix + string(b)
}

func notFound(kind, name string) error {
	return fmt.Errorf("no such %s: %s: %w", kind, name, structs.ErrNotFound)
}

// AppCreate creates an app.
func (p *Provider) AppCreate(name string, opts structs.AppCreateOptions) (*structs.App, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("AppCreate", name, opts)
	if _, ok := p.apps[name]; ok {
		return nil, fmt.Errorf("app already exists: %s: %w", name, structs.ErrInvalid)
	}
	gen := "2"
	if opts.Generation != nil {
		gen = *opts.Generation
	}
	a := &structs.App{Name: name, Generation: gen, Status: "running"}
	p.apps[name] = a
	c := *a
	return &c, nil
}

// AppDelete deletes an app.
func (p *Provider) AppDelete(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("AppDelete", name)
	if _, ok := p.apps[name]; !ok {
		return notFound("app", name)
	}
	delete(p.apps, name)
	return nil
}

// AppGet returns an app.
func (p *Provider) AppGet(name string) (*structs.App, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("AppGet", name)
	a, ok := p.apps[name]
	if !ok {
		return nil, notFound("app", name)
	}
	c := *a
	return &c, nil
}

// AppList lists apps by name.
func (p *Provider) AppList() (structs.Apps, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("AppList")
	as := structs.Apps{}
	for _, a := range p.apps {
		as = append(as, *a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	return as, nil
}

// EventSend records an event.
func (p *Provider) EventSend(action string, opts structs.EventSendOptions) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("EventSend", action, opts)
	return nil
}

// SystemGet describes the rack; it reports "updating" for UpdatingPolls calls after an update.
func (p *Provider) SystemGet() (*structs.System, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("SystemGet")
	s := p.system
	s.Parameters = maps.Clone(p.system.Parameters)
	if p.updating > 0 {
		p.updating--
		s.Status = "updating"
	}
	return &s, nil
}

// SystemUpdate merges parameters.
func (p *Provider) SystemUpdate(opts structs.SystemUpdateOptions) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("SystemUpdate", opts)
	maps.Copy(p.system.Parameters, opts.Parameters)
	p.updating = p.UpdatingPolls
	return nil
}

// ObjectDelete deletes an object.
func (p *Provider) ObjectDelete(app, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ObjectDelete", app, key)
	if _, ok := p.objects[app+"/"+key]; !ok {
		return notFound("object", key)
	}
	delete(p.objects, app+"/"+key)
	return nil
}

// ObjectExists reports whether an object exists.
func (p *Provider) ObjectExists(app, key string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ObjectExists", app, key)
	_, ok := p.objects[app+"/"+key]
	return ok, nil
}

// ObjectFetch returns an object.
func (p *Provider) ObjectFetch(app, key string) (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ObjectFetch", app, key)
	data, ok := p.objects[app+"/"+key]
	if !ok {
		return nil, notFound("object", key)
	}
	return io.NopCloser(newReader(data)), nil
}

// ObjectStore stores an object.
func (p *Provider) ObjectStore(app, key string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ObjectStore", app, key, opts)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	p.objects[app+"/"+key] = data
	return &structs.Object{Url: fmt.Sprintf("object://%s/%s", app, key)}, nil
}

// Object returns a stored object's bytes, for assertions.
func (p *Provider) Object(app, key string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	data, ok := p.objects[app+"/"+key]
	return data, ok
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
