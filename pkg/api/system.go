package api

import (
	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdapi"
)

// Auth answers GET /auth, which `convox login` calls to check a password: the
// request has passed authentication when it gets here.
func (s *Server) Auth(c *stdapi.Context) error {
	return c.RenderOK()
}

// SystemGet answers GET /system.
func (s *Server) SystemGet(c *stdapi.Context) error {
	sys, err := s.provider.SystemGet()
	if err != nil {
		return providerErr("system get", err)
	}
	return c.RenderJSON(sys)
}

// SystemUpdate answers PUT /system; the form field parameters is itself
// URL-encoded (K=V&K=V) and is checked against the parameter catalogue
// before the provider sees it.
func (s *Server) SystemUpdate(c *stdapi.Context) error {
	var opts structs.SystemUpdateOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid parameters: %v", err)
	}
	if len(opts.Parameters) == 0 {
		return invalidf("parameters required")
	}
	if err := params.Validate(opts.Parameters); err != nil {
		return &invalidError{msg: err.Error()}
	}
	if err := s.provider.SystemUpdate(opts); err != nil {
		return providerErr("system update", err)
	}
	return c.RenderOK()
}

// EventSend answers POST /events.
func (s *Server) EventSend(c *stdapi.Context) error {
	action := c.Form("action")
	if action == "" {
		return invalidf("action required")
	}
	if err := validText("action", action); err != nil {
		return err
	}
	var opts structs.EventSendOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid event: %v", err)
	}
	if err := s.provider.EventSend(action, opts); err != nil {
		return providerErr("event send", err)
	}
	return c.RenderOK()
}

// AppList answers GET /apps.
func (s *Server) AppList(c *stdapi.Context) error {
	apps, err := s.provider.AppList()
	if err != nil {
		return providerErr("app list", err)
	}
	if apps == nil {
		apps = structs.Apps{}
	}
	return c.RenderJSON(apps)
}

// AppCreate answers POST /apps with form fields name and generation.
func (s *Server) AppCreate(c *stdapi.Context) error {
	name := c.Form("name")
	if err := structs.CheckAppName(name); err != nil {
		return err
	}
	var opts structs.AppCreateOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid app options: %v", err)
	}
	if g := opts.Generation; g != nil && *g != "1" && *g != "2" {
		return invalidf("invalid generation %q: 1 or 2 expected", *g)
	}
	a, err := s.provider.AppCreate(name, opts)
	if err != nil {
		return providerErr("app create "+name, err)
	}
	return c.RenderJSON(a)
}

// AppGet answers GET /apps/{name}.
func (s *Server) AppGet(c *stdapi.Context) error {
	name := c.Var("name")
	if err := validApp(name); err != nil {
		return err
	}
	a, err := s.provider.AppGet(name)
	if err != nil {
		return providerErr("app get "+name, err)
	}
	return c.RenderJSON(a)
}

// AppDelete answers DELETE /apps/{name}.
func (s *Server) AppDelete(c *stdapi.Context) error {
	name := c.Var("name")
	if err := validApp(name); err != nil {
		return err
	}
	if err := s.provider.AppDelete(name); err != nil {
		return providerErr("app delete "+name, err)
	}
	return c.RenderOK()
}
