package aws

import (
	"fmt"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/records"
)

// releases is the stack's releases table.
func (p *Provider) releases() (records.Table, error) {
	return p.table(p.res.ReleasesTable, "id")
}

// putRelease writes a release record.
func (p *Provider) putRelease(t records.Table, r structs.Release) error {
	return t.Put(p.ctx, r.Id, map[string]string{"app": r.App, "created": records.Created(r.Created)}, r)
}

// ReleaseCreate records a release of a build; without opts.Env it keeps the
// environment of the app's latest release. A release of a build takes the build's
// description (as upstream Convox does), unless opts.Description is given.
func (p *Provider) ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error) {
	if _, err := p.AppGet(app); err != nil {
		return nil, err
	}
	r := structs.Release{Id: newID("R"), App: app, Created: p.now().UTC()}
	if id := deref(opts.Build); id != "" {
		b, err := p.BuildGet(app, id)
		if err != nil {
			return nil, err
		}
		r.Build, r.Manifest, r.Description = b.Id, b.Manifest, b.Description
	}
	if opts.Description != nil {
		r.Description = *opts.Description
	}
	if opts.Env != nil {
		r.Env = *opts.Env
	} else {
		latest, err := p.ReleaseList(app, structs.ReleaseListOptions{Limit: intp(1)})
		if err != nil {
			return nil, err
		}
		if len(latest) > 0 {
			r.Env = latest[0].Env
		}
	}
	t, err := p.releases()
	if err != nil {
		return nil, err
	}
	if err := p.putRelease(t, r); err != nil {
		return nil, err
	}
	p.logf("at=release.create app=%s id=%s build=%s", app, r.Id, r.Build)
	return &r, nil
}

// ReleaseGet reads a release.
func (p *Provider) ReleaseGet(app, id string) (*structs.Release, error) {
	t, err := p.releases()
	if err != nil {
		return nil, err
	}
	var r structs.Release
	if err := t.Get(p.ctx, id, &r); err != nil {
		return nil, missing(err, "release", id)
	}
	if r.App != app {
		return nil, notFound(fmt.Errorf("release %s not found", id))
	}
	return &r, nil
}

// ReleaseList lists an app's releases newest first, at most opts.Limit (default 10).
func (p *Provider) ReleaseList(app string, opts structs.ReleaseListOptions) (structs.Releases, error) {
	if _, err := p.AppGet(app); err != nil {
		return nil, err
	}
	t, err := p.releases()
	if err != nil {
		return nil, err
	}
	rs := structs.Releases{}
	err = t.Newest(p.ctx, app, limitOf(opts.Limit), func(decode func(any) error) error {
		var r structs.Release
		if err := decode(&r); err != nil {
			return err
		}
		rs = append(rs, r)
		return nil
	})
	return rs, err
}

// ReleasePromote makes a release of a build the app's active one.
func (p *Provider) ReleasePromote(app, id string, opts structs.ReleasePromoteOptions) error {
	a, err := p.AppGet(app)
	if err != nil {
		return err
	}
	r, err := p.ReleaseGet(app, id)
	if err != nil {
		return err
	}
	if r.Build == "" {
		return invalid(fmt.Errorf("release %s has no build to promote", id))
	}
	a.Release = r.Id
	if err := p.saveApp(a); err != nil {
		return err
	}
	p.logf("at=release.promote app=%s id=%s", app, id)
	return nil
}

func intp(i int) *int { return &i }
