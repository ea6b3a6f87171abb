package api

import "github.com/convox/stdapi"

// Route is one endpoint of the rack API. Method is an HTTP method or SOCKET
// for a websocket; Path uses gorilla/mux variables such as {app}.
type Route struct {
	Method string
	Path   string
}

type route struct {
	Route
	handler stdapi.HandlerFunc
}

// Routes lists every endpoint the API serves, in the order they are matched.
func Routes() []Route {
	var s Server
	rs := s.routes()
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = r.Route
	}
	return out
}

// routes is the single route table: New serves it, Routes reports it. The
// .tgz export comes before the build get so {id} never swallows ".tgz".
func (s *Server) routes() []route {
	r := func(method, path string, h stdapi.HandlerFunc) route {
		return route{Route{method, path}, h}
	}
	return []route{
		r("GET", "/auth", s.Auth),
		r("GET", "/system", s.SystemGet),
		r("PUT", "/system", s.SystemUpdate),

		r("GET", "/apps", s.AppList),
		r("POST", "/apps", s.AppCreate),
		r("GET", "/apps/{name}", s.AppGet),
		r("DELETE", "/apps/{name}", s.AppDelete),

		r("POST", "/events", s.EventSend),

		r("HEAD", "/apps/{app}/objects/{key:.*}", s.ObjectExists),
		r("GET", "/apps/{app}/objects/{key:.*}", s.ObjectFetch),
		r("POST", "/apps/{app}/objects/{key:.*}", s.ObjectStore),
		r("DELETE", "/apps/{app}/objects/{key:.*}", s.ObjectDelete),

		r("POST", "/apps/{app}/builds", s.BuildCreate),
		r("GET", "/apps/{app}/builds", s.BuildList),
		r("POST", "/apps/{app}/builds/import", s.BuildImport),
		r("GET", "/apps/{app}/builds/{id}.tgz", s.BuildExport),
		r("GET", "/apps/{app}/builds/{id}", s.BuildGet),
		r("PUT", "/apps/{app}/builds/{id}", s.BuildUpdate),
		r("SOCKET", "/apps/{app}/builds/{id}/logs", s.BuildLogs),

		r("POST", "/apps/{app}/releases", s.ReleaseCreate),
		r("GET", "/apps/{app}/releases", s.ReleaseList),
		r("GET", "/apps/{app}/releases/{id}", s.ReleaseGet),
		r("POST", "/apps/{app}/releases/{id}/promote", s.ReleasePromote),
	}
}
