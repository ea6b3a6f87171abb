package apitest

import (
	"github.com/convox/rack/pkg/structs"
)

// newRelease records a release of build; the caller holds p.mu.
func (p *Provider) newRelease(app, build, description string) *structs.Release {
	r := &structs.Release{Id: ID("R"), App: app, Build: build, Description: description, Created: now()}
	p.releases[app] = append(p.releases[app], r)
	return r
}

// ReleaseCreate creates a release.
func (p *Provider) ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ReleaseCreate", app, opts)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	r := p.newRelease(app, deref(opts.Build), deref(opts.Description))
	r.Env = deref(opts.Env)
	c := *r
	return &c, nil
}

// ReleaseGet returns a release.
func (p *Provider) ReleaseGet(app, id string) (*structs.Release, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ReleaseGet", app, id)
	for _, r := range p.releases[app] {
		if r.Id == id {
			c := *r
			return &c, nil
		}
	}
	return nil, notFound("release", id)
}

// ReleaseList lists releases newest first.
func (p *Provider) ReleaseList(app string, opts structs.ReleaseListOptions) (structs.Releases, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ReleaseList", app, opts)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	rs := structs.Releases{}
	for i := len(p.releases[app]) - 1; i >= 0; i-- {
		if opts.Limit != nil && len(rs) >= *opts.Limit {
			break
		}
		rs = append(rs, *p.releases[app][i])
	}
	return rs, nil
}

// ReleasePromote makes a release the app's active one.
func (p *Provider) ReleasePromote(app, id string, opts structs.ReleasePromoteOptions) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("ReleasePromote", app, id, opts)
	a, ok := p.apps[app]
	if !ok {
		return notFound("app", app)
	}
	for _, r := range p.releases[app] {
		if r.Id == id {
			a.Release = id
			return nil
		}
	}
	return notFound("release", id)
}
