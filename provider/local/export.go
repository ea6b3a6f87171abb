package local

import (
	"context"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/pkg/buildarchive"
	"github.com/convox/rack/pkg/structs"
)

// BuildExport writes a complete build and its service images as an archive in
// the layout upstream Convox racks import.
func (p *Provider) BuildExport(app, id string, w io.Writer) error {
	b, err := p.store.BuildGet(app, id)
	if err != nil {
		return err
	}
	if b.Status != structs.BuildStatusComplete {
		return fmt.Errorf("build %s is %s, only complete builds can be exported: %w", id, b.Status, structs.ErrInvalid)
	}
	ctx := context.Background()
	tags, err := p.repos.Tags(ctx, app)
	if err != nil {
		return err
	}
	images := map[string]v1.Image{}
	for _, tag := range tags {
		service, ok := strings.CutSuffix(tag, "."+id)
		if !ok {
			continue
		}
		ref, err := p.repos.Tag(app, tag)
		if err != nil {
			return err
		}
		img, err := remote.Image(ref, remote.WithAuth(p.repos.Auth), remote.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("reading image of %s: %w", service, err)
		}
		images[service] = img
	}
	if len(images) == 0 {
		return fmt.Errorf("build %s has no images in the registry: %w", id, structs.ErrNotFound)
	}
	// The images are named {rack}/{app} in the archive: the local registry's
	// loopback host:port would break upstream importers, which split tags at the colon.
	return buildarchive.Write(w, *b, strings.ToLower(p.opts.Name)+"/"+app, images)
}

// BuildImport reads an archive, pushes its images under a new build id and
// records the build with a release, as a finished build would.
func (p *Provider) BuildImport(app string, r io.Reader) (*structs.Build, error) {
	if _, err := p.store.AppGet(app); err != nil {
		return nil, err
	}
	a, err := buildarchive.Read(r, buildarchive.Limits{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	now := p.opts.Now().UTC()
	b := structs.Build{
		Id: id("B"), App: app, Description: a.Build.Description, Entrypoint: a.Build.Entrypoint,
		GitSha: a.Build.GitSha, Manifest: a.Build.Manifest, Status: structs.BuildStatusComplete,
		Repository: p.registry.Host() + "/" + app, Started: now, Ended: now,
		Reason: "imported from build " + a.Build.Id,
	}
	ctx := context.Background()
	release := p.gc.lease() // the import pushes: no registry sweep until it ends
	defer release()
	for _, service := range a.Services() {
		ref, err := p.repos.Tag(app, service+"."+b.Id)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, a.Images[service], remote.WithAuth(p.repos.Auth), remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("pushing image of %s: %w", service, err)
		}
	}
	if err := p.store.BuildPut(b); err != nil {
		return nil, err
	}
	rel, err := p.ReleaseCreate(app, structs.ReleaseCreateOptions{Build: &b.Id})
	if err != nil {
		return nil, err
	}
	return p.store.BuildUpdate(app, b.Id, func(b *structs.Build) error {
		b.Release = rel.Id
		return nil
	})
}
