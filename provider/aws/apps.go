package aws

import (
	"errors"
	"fmt"
	"sort"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/records"
)

// apps is the stack's apps table.
func (p *Provider) apps() (records.Table, error) {
	return p.table(p.res.AppsTable, "name")
}

// AppCreate records an app and creates its ECR repository.
func (p *Provider) AppCreate(name string, opts structs.AppCreateOptions) (*structs.App, error) {
	if err := structs.CheckAppName(name); err != nil {
		return nil, err
	}
	gen := "2"
	if opts.Generation != nil {
		gen = *opts.Generation
	}
	if gen != "1" && gen != "2" {
		return nil, invalid(fmt.Errorf("generation %q: 1 or 2 expected", gen))
	}
	t, err := p.apps()
	if err != nil {
		return nil, err
	}
	var existing structs.App
	if err := t.Get(p.ctx, name, &existing); err == nil {
		return nil, invalid(fmt.Errorf("app %s already exists", name))
	} else if !errors.Is(err, records.ErrNotFound) {
		return nil, err
	}
	_, err = p.ecr.CreateRepository(p.ctx, &ecr.CreateRepositoryInput{
		RepositoryName:     sdkaws.String(p.repositoryName(name)),
		ImageTagMutability: ecrtypes.ImageTagMutabilityMutable,
	})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return nil, fmt.Errorf("creating repository of app %s: %w", name, err)
	}
	a := structs.App{Name: name, Generation: gen, Status: "running"}
	if err := t.Create(p.ctx, name, nil, a); err != nil {
		if errors.Is(err, records.ErrExists) {
			return nil, invalid(fmt.Errorf("app %s already exists", name))
		}
		return nil, err
	}
	p.logf("at=app.create app=%s generation=%s", name, gen)
	return &a, nil
}

// AppGet reads an app.
func (p *Provider) AppGet(name string) (*structs.App, error) {
	t, err := p.apps()
	if err != nil {
		return nil, err
	}
	var a structs.App
	if err := t.Get(p.ctx, name, &a); err != nil {
		return nil, missing(err, "app", name)
	}
	return &a, nil
}

// AppList lists apps by name.
func (p *Provider) AppList() (structs.Apps, error) {
	t, err := p.apps()
	if err != nil {
		return nil, err
	}
	as := structs.Apps{}
	err = t.All(p.ctx, func(decode func(any) error) error {
		var a structs.App
		if err := decode(&a); err != nil {
			return err
		}
		as = append(as, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	return as, nil
}

// AppDelete removes an app's repository (with its images) and its record.
func (p *Provider) AppDelete(name string) error {
	if _, err := p.AppGet(name); err != nil {
		return err
	}
	_, err := p.ecr.DeleteRepository(p.ctx, &ecr.DeleteRepositoryInput{
		RepositoryName: sdkaws.String(p.repositoryName(name)),
		Force:          true,
	})
	var gone *ecrtypes.RepositoryNotFoundException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("deleting repository of app %s: %w", name, err)
	}
	t, err := p.apps()
	if err != nil {
		return err
	}
	if err := t.Delete(p.ctx, name); err != nil {
		return err
	}
	p.logf("at=app.delete app=%s", name)
	return nil
}

// saveApp writes an app record back, e.g. after a promote.
func (p *Provider) saveApp(a *structs.App) error {
	t, err := p.apps()
	if err != nil {
		return err
	}
	return t.Put(p.ctx, a.Name, nil, a)
}
