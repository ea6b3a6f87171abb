package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/version"
	"github.com/convox/rack/provider/local/janitor"
)

// parameters are the catalogue defaults overlaid with what was set.
func (p *Provider) parameters() (map[string]string, error) {
	set, err := p.store.Params()
	if err != nil {
		return nil, fmt.Errorf("reading parameters: %w", err)
	}
	out := params.Defaults()
	maps.Copy(out, set)
	return out, nil
}

// SystemGet describes the rack.
func (p *Provider) SystemGet() (*structs.System, error) {
	ps, err := p.parameters()
	if err != nil {
		return nil, err
	}
	delete(ps, "Password") // the API password is RACK_PASSWORD; never echoed
	outputs := map[string]string{"Registry": p.registry.Host()}
	if ps["BuildCache"] == "Yes" {
		outputs["BuildCacheRepository"] = p.registry.Host() + "/" + p.CacheRepo()
	}
	return &structs.System{
		Name: p.opts.Name, Provider: "local", Region: "local", Status: "running",
		Version: version.Current(), Parameters: ps, Outputs: outputs,
	}, nil
}

// SystemUpdate validates parameters with the catalogue, applies what they
// change (BuildCache=Yes creates the cache repository, No deletes it with
// every cache image), then stores them.
func (p *Provider) SystemUpdate(opts structs.SystemUpdateOptions) error {
	if len(opts.Parameters) == 0 {
		return nil
	}
	if err := params.Validate(opts.Parameters); err != nil {
		return fmt.Errorf("%w: %w", err, structs.ErrInvalid)
	}
	if _, ok := opts.Parameters["Password"]; ok {
		return fmt.Errorf("the local rack's password is RACK_PASSWORD; restart the rack to change it: %w", structs.ErrInvalid)
	}
	p.params.Lock()
	defer p.params.Unlock()
	ctx := context.Background()
	switch opts.Parameters["BuildCache"] {
	case "Yes":
		if err := p.repos.Mark(ctx, p.CacheRepo()); err != nil {
			return fmt.Errorf("creating the build cache: %w", err)
		}
	case "No":
		if err := p.repos.Remove(ctx, p.CacheRepo()); err != nil {
			return fmt.Errorf("deleting the build cache: %w", err)
		}
		if err := p.store.ForgetRepo(p.CacheRepo()); err != nil {
			return fmt.Errorf("deleting the build cache: %w", err)
		}
		// the cache's layers leave the disk now, or after the builds running
		defer p.gc.request()
	}
	return p.store.SetParams(opts.Parameters)
}

// cleanupPolicy is the janitor's policy; it sweeps only while the cache is on.
func (p *Provider) cleanupPolicy() (janitor.Policy, bool) {
	ps, err := p.parameters()
	if err != nil {
		return janitor.Policy{}, false
	}
	days, _ := strconv.Atoi(ps["BuildCacheRetentionDays"])
	return janitor.Policy{Cleanup: ps["BuildCacheCleanup"] == "Yes", RetentionDays: days}, ps["BuildCache"] == "Yes"
}

var errNoBuilder = errors.New("no way to run builds")
