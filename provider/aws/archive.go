package aws

import (
	"fmt"
	"io"

	"github.com/convox/rack/pkg/buildarchive"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/images"
)

// BuildExport writes a build and its service images (tagged {service}.{build}
// in the app's repository) as a build archive in the layout upstream Convox racks import.
func (p *Provider) BuildExport(app, id string, w io.Writer) error {
	b, err := p.BuildGet(app, id)
	if err != nil {
		return err
	}
	if b.Status != structs.BuildStatusComplete {
		return invalid(fmt.Errorf("build %s is %s: only complete builds can be exported", id, b.Status))
	}
	login, err := p.registry.Login(p.ctx)
	if err != nil {
		return err
	}
	repo := p.repositoryName(app)
	imgs, err := images.Find(p.ctx, login, login.Repository(repo), id)
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		return fmt.Errorf("build %s has no images in the app's repository", id)
	}
	// Named by the repository alone: a registry host:port would break upstream
	// importers, which split tags at the colon.
	if err := buildarchive.Write(w, *b, repo, imgs); err != nil {
		return fmt.Errorf("exporting build %s: %w", id, err)
	}
	p.logf("at=build.export app=%s id=%s images=%d", app, id, len(imgs))
	return nil
}

// BuildImport checks an archive, pushes its images into the app's repository
// under a new build id, and records that build (complete) with a release of it.
func (p *Provider) BuildImport(app string, r io.Reader) (*structs.Build, error) {
	if _, err := p.AppGet(app); err != nil {
		return nil, err
	}
	a, err := buildarchive.Read(r, p.archiveLimits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	login, err := p.registry.Login(p.ctx)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC()
	src := a.Build
	b := structs.Build{
		Id:             newID("B"),
		App:            app,
		Description:    firstOf(src.Description, "imported from "+src.App+" build "+src.Id),
		Entrypoint:     src.Entrypoint,
		GitSha:         src.GitSha,
		Manifest:       src.Manifest,
		Repository:     login.Repository(p.repositoryName(app)),
		Status:         structs.BuildStatusCreated,
		Started:        now,
		WildcardDomain: src.WildcardDomain,
	}
	it := buildItem{Build: b, Created: now}
	if err := p.putBuild(t, it); err != nil {
		return nil, err
	}
	for _, service := range a.Services() {
		if err := images.Push(p.ctx, login, b.Repository, images.Tag(service, b.Id), a.Images[service]); err != nil {
			it.Build.Status, it.Build.Reason, it.Build.Ended = structs.BuildStatusFailed, "import: "+err.Error(), p.now().UTC()
			p.putBuild(t, it)
			return nil, fmt.Errorf("importing build into %s: %w", app, err)
		}
	}
	it.Build.Status, it.Build.Ended = structs.BuildStatusComplete, p.now().UTC()
	if err := p.putBuild(t, it); err != nil {
		return nil, err
	}
	rel, err := p.ReleaseCreate(app, structs.ReleaseCreateOptions{Build: &b.Id, Description: &it.Build.Description})
	if err != nil {
		return nil, err
	}
	it.Build.Release = rel.Id
	if err := p.putBuild(t, it); err != nil {
		return nil, err
	}
	p.logf("at=build.import app=%s id=%s from=%q images=%d release=%s", app, b.Id, src.App+"/"+src.Id, len(a.Images), rel.Id)
	return &it.Build, nil
}
