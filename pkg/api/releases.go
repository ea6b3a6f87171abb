package api

import (
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdapi"
)

// ReleaseCreate answers POST /apps/{app}/releases (form build, description, env).
func (s *Server) ReleaseCreate(c *stdapi.Context) error {
	app := c.Var("app")
	if err := validApp(app); err != nil {
		return err
	}
	var opts structs.ReleaseCreateOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid release options: %v", err)
	}
	if opts.Build != nil && *opts.Build != "" {
		if err := validID("build", *opts.Build); err != nil {
			return err
		}
	}
	if opts.Description != nil {
		if err := validText("description", *opts.Description); err != nil {
			return err
		}
	}
	r, err := s.provider.ReleaseCreate(app, opts)
	if err != nil {
		return providerErr("release create", err)
	}
	return c.RenderJSON(r)
}

// ReleaseList answers GET /apps/{app}/releases?limit=N.
func (s *Server) ReleaseList(c *stdapi.Context) error {
	app := c.Var("app")
	if err := validApp(app); err != nil {
		return err
	}
	var opts structs.ReleaseListOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid limit: %v", err)
	}
	if opts.Limit != nil && (*opts.Limit < 1 || *opts.Limit > 1000) {
		return invalidf("invalid limit %d: 1 to 1000 expected", *opts.Limit)
	}
	rs, err := s.provider.ReleaseList(app, opts)
	if err != nil {
		return providerErr("release list", err)
	}
	if rs == nil {
		rs = structs.Releases{}
	}
	return c.RenderJSON(rs)
}

// appRelease reads and checks the {app} and {id} path variables.
func appRelease(c *stdapi.Context) (string, string, error) {
	app, id := c.Var("app"), c.Var("id")
	if err := validApp(app); err != nil {
		return "", "", err
	}
	if err := validID("release", id); err != nil {
		return "", "", err
	}
	return app, id, nil
}

// ReleaseGet answers GET /apps/{app}/releases/{id}.
func (s *Server) ReleaseGet(c *stdapi.Context) error {
	app, id, err := appRelease(c)
	if err != nil {
		return err
	}
	r, err := s.provider.ReleaseGet(app, id)
	if err != nil {
		return providerErr("release get "+id, err)
	}
	return c.RenderJSON(r)
}

// ReleasePromote answers POST /apps/{app}/releases/{id}/promote.
func (s *Server) ReleasePromote(c *stdapi.Context) error {
	app, id, err := appRelease(c)
	if err != nil {
		return err
	}
	if err := s.provider.ReleasePromote(app, id, structs.ReleasePromoteOptions{}); err != nil {
		return providerErr("release promote "+id, err)
	}
	return c.RenderOK()
}
