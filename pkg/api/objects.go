package api

import (
	"io"
	"net/http"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdapi"
)

// appKey reads and checks the {app} and {key} path variables.
func appKey(c *stdapi.Context) (string, string, error) {
	app, key := c.Var("app"), c.Var("key")
	if err := validApp(app); err != nil {
		return "", "", err
	}
	if err := validRelativePath("object key", key); err != nil {
		return "", "", err
	}
	return app, key, nil
}

// ObjectStore answers POST /apps/{app}/objects/{key}: the raw body is the
// object. Options come from the query string only, so the body is never
// parsed as a form.
func (s *Server) ObjectStore(c *stdapi.Context) error {
	app, key, err := appKey(c)
	if err != nil {
		return err
	}
	var opts structs.ObjectStoreOptions
	if v := c.Query("public"); v != "" {
		b := v == "true"
		opts.Public = &b
	}
	o, err := s.provider.ObjectStore(app, key, s.upload(c), opts)
	if err != nil {
		return providerErr("object store "+key, err)
	}
	return c.RenderJSON(o)
}

// ObjectFetch answers GET /apps/{app}/objects/{key} with the raw object.
func (s *Server) ObjectFetch(c *stdapi.Context) error {
	app, key, err := appKey(c)
	if err != nil {
		return err
	}
	r, err := s.provider.ObjectFetch(app, key)
	if err != nil {
		return providerErr("object fetch "+key, err)
	}
	defer r.Close()
	w := &lazyWriter{c: c, contentType: "application/octet-stream"}
	if _, err := io.Copy(w, r); err != nil {
		if !w.started {
			return providerErr("object fetch "+key, err)
		}
		panic(http.ErrAbortHandler) // headers are out: only a broken connection tells the client
	}
	if !w.started {
		w.start()
	}
	return nil
}

// ObjectExists answers HEAD /apps/{app}/objects/{key}: 200 or 404.
func (s *Server) ObjectExists(c *stdapi.Context) error {
	app, key, err := appKey(c)
	if err != nil {
		return err
	}
	ok, err := s.provider.ObjectExists(app, key)
	if err != nil {
		return providerErr("object exists "+key, err)
	}
	if !ok {
		return stdapi.Errorf(http.StatusNotFound, "no such object: %s", key)
	}
	return nil
}

// ObjectDelete answers DELETE /apps/{app}/objects/{key}.
func (s *Server) ObjectDelete(c *stdapi.Context) error {
	app, key, err := appKey(c)
	if err != nil {
		return err
	}
	if err := s.provider.ObjectDelete(app, key); err != nil {
		return providerErr("object delete "+key, err)
	}
	return c.RenderOK()
}
