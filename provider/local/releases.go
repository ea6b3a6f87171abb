package local

import (
	"fmt"

	"github.com/convox/rack/pkg/structs"
)

// ReleaseCreate records a release of an app, from a build and/or an environment.
// A release of a build takes the build's description (as upstream Convox does),
// unless opts.Description is given.
func (p *Provider) ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error) {
	if _, err := p.store.AppGet(app); err != nil {
		return nil, err
	}
	r := structs.Release{Id: id("R"), App: app, Created: p.opts.Now().UTC()}
	if prev, err := p.store.ReleaseList(app, 1); err == nil && len(prev) > 0 {
		r.Build, r.Env, r.Manifest = prev[0].Build, prev[0].Env, prev[0].Manifest
	}
	if opts.Build != nil {
		b, err := p.store.BuildGet(app, *opts.Build)
		if err != nil {
			return nil, err
		}
		r.Build, r.Manifest, r.Description = b.Id, b.Manifest, b.Description
	}
	if opts.Env != nil {
		r.Env = *opts.Env
	}
	if opts.Description != nil {
		r.Description = *opts.Description
	}
	if err := p.store.ReleasePut(r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ReleaseGet returns a release.
func (p *Provider) ReleaseGet(app, id string) (*structs.Release, error) {
	return p.store.ReleaseGet(app, id)
}

// ReleaseList lists releases newest first.
func (p *Provider) ReleaseList(app string, opts structs.ReleaseListOptions) (structs.Releases, error) {
	if _, err := p.store.AppGet(app); err != nil {
		return nil, err
	}
	limit := 0
	if opts.Limit != nil {
		limit = *opts.Limit
	}
	return p.store.ReleaseList(app, limit)
}

// ReleasePromote makes a release the app's active one. The local rack runs no
// services, so promoting records the choice.
func (p *Provider) ReleasePromote(app, id string, opts structs.ReleasePromoteOptions) error {
	a, err := p.store.AppGet(app)
	if err != nil {
		return err
	}
	r, err := p.store.ReleaseGet(app, id)
	if err != nil {
		return err
	}
	if r.Build != "" {
		b, err := p.store.BuildGet(app, r.Build)
		if err != nil {
			return err
		}
		if b.Status != structs.BuildStatusComplete {
			return fmt.Errorf("release %s has build %s with status %s: %w", id, b.Id, b.Status, structs.ErrInvalid)
		}
	}
	a.Release = r.Id
	return p.store.AppPut(*a, false)
}
