package api

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdapi"
	"github.com/gorilla/websocket"
)

// appBuild reads and checks the {app} and {id} path variables.
func appBuild(c *stdapi.Context) (string, string, error) {
	app, id := c.Var("app"), c.Var("id")
	if err := validApp(app); err != nil {
		return "", "", err
	}
	if err := validID("build", id); err != nil {
		return "", "", err
	}
	return app, id, nil
}

// BuildCreate answers POST /apps/{app}/builds (form url, no-cache,
// build-args, description, development, manifest, wildcard-domain, git-sha).
func (s *Server) BuildCreate(c *stdapi.Context) error {
	app := c.Var("app")
	if err := validApp(app); err != nil {
		return err
	}
	var opts structs.BuildCreateOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid build options: %v", err)
	}
	opts.BuildArgs = nonEmpty(opts.BuildArgs)
	url := c.Form("url")
	if err := validSourceURL(url); err != nil {
		return err
	}
	if err := validBuildOptions(opts); err != nil {
		return err
	}
	b, err := s.provider.BuildCreate(app, url, opts)
	if err != nil {
		return providerErr("build create", err)
	}
	return c.RenderJSON(b)
}

// nonEmpty drops empty entries: "build-args=" is a list of none, not one empty arg.
func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// BuildList answers GET /apps/{app}/builds?limit=N.
func (s *Server) BuildList(c *stdapi.Context) error {
	app := c.Var("app")
	if err := validApp(app); err != nil {
		return err
	}
	var opts structs.BuildListOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid limit: %v", err)
	}
	if opts.Limit != nil && (*opts.Limit < 1 || *opts.Limit > 1000) {
		return invalidf("invalid limit %d: 1 to 1000 expected", *opts.Limit)
	}
	bs, err := s.provider.BuildList(app, opts)
	if err != nil {
		return providerErr("build list", err)
	}
	if bs == nil {
		bs = structs.Builds{}
	}
	return c.RenderJSON(bs)
}

// BuildGet answers GET /apps/{app}/builds/{id}.
func (s *Server) BuildGet(c *stdapi.Context) error {
	app, id, err := appBuild(c)
	if err != nil {
		return err
	}
	b, err := s.provider.BuildGet(app, id)
	if err != nil {
		return providerErr("build get "+id, err)
	}
	return c.RenderJSON(b)
}

// BuildUpdate answers PUT /apps/{app}/builds/{id}: the build task reports
// status, times, manifest, release and the per-service cache summary.
func (s *Server) BuildUpdate(c *stdapi.Context) error {
	app, id, err := appBuild(c)
	if err != nil {
		return err
	}
	var opts structs.BuildUpdateOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid build update: %v", err)
	}
	if opts.Status != nil {
		if err := validStatus(*opts.Status); err != nil {
			return err
		}
	}
	if opts.Release != nil && *opts.Release != "" {
		if err := validID("release", *opts.Release); err != nil {
			return err
		}
	}
	if opts.Reused != nil && *opts.Reused != "" {
		if err := validID("build", *opts.Reused); err != nil {
			return err
		}
	}
	if opts.Cache != nil && *opts.Cache != "" {
		var sum []structs.BuildServiceSummary
		if err := json.Unmarshal([]byte(*opts.Cache), &sum); err != nil {
			return invalidf("invalid cache summary: %v", err)
		}
	}
	b, err := s.provider.BuildUpdate(app, id, opts)
	if err != nil {
		return providerErr("build update "+id, err)
	}
	return c.RenderJSON(b)
}

// BuildLogs streams the logs of a build over the websocket; it stops when
// the provider's stream ends or the client goes away.
func (s *Server) BuildLogs(c *stdapi.Context) error {
	ws := c.Websocket()
	gone := watchClient(ws)
	defer closeSocket(ws, gone)
	if err := s.buildLogs(c, gone); err != nil {
		socketError(c, err)
		return nil
	}
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{}) // end of stream, the stdapi convention
	return nil
}

func (s *Server) buildLogs(c *stdapi.Context, gone <-chan struct{}) error {
	app, id, err := appBuild(c)
	if err != nil {
		return err
	}
	var opts structs.LogsOptions
	if err := stdapi.UnmarshalOptions(c.Request(), &opts); err != nil {
		return invalidf("invalid logs options: %v", err)
	}
	r, err := s.provider.BuildLogs(app, id, opts)
	if err != nil {
		return providerErr("build logs "+id, err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { r.Close() }) }
	defer stop()
	go func() {
		<-gone // the client left: end a stream that may follow forever
		stop()
	}()
	if _, err := io.Copy(c, r); err != nil {
		c.Logf("error=%q", err.Error()) // the client left or the stream broke: nothing left to tell it
	}
	return nil
}

// BuildExport answers GET /apps/{app}/builds/{id}.tgz with the build archive.
func (s *Server) BuildExport(c *stdapi.Context) error {
	app, id, err := appBuild(c)
	if err != nil {
		return err
	}
	w := &lazyWriter{c: c, contentType: "application/gzip"}
	if err := s.provider.BuildExport(app, id, w); err != nil {
		if !w.started {
			return providerErr("build export "+id, err)
		}
		c.Logf("error=%q", err.Error())
		panic(http.ErrAbortHandler) // half sent: break the connection so the client sees the failure
	}
	if !w.started {
		w.start()
	}
	return nil
}

// BuildImport answers POST /apps/{app}/builds/import; the raw body is an
// archive made by BuildExport.
func (s *Server) BuildImport(c *stdapi.Context) error {
	app := c.Var("app")
	if err := validApp(app); err != nil {
		return err
	}
	b, err := s.provider.BuildImport(app, s.upload(c))
	if err != nil {
		return providerErr("build import", err)
	}
	return c.RenderJSON(b)
}

// lazyWriter sends the response headers with the first byte, so an error
// before any output can still be answered with a proper status.
type lazyWriter struct {
	c           *stdapi.Context
	contentType string
	started     bool
}

func (w *lazyWriter) start() {
	w.started = true
	w.c.Response().Header().Set("Content-Type", w.contentType)
	w.c.Response().WriteHeader(http.StatusOK)
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.c.Response().Write(p)
}
