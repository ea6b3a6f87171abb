// Package security tests the rack's guards end to end on a real local rack:
// authentication on every route, secrets kept out of everything a user or a
// log reader sees, and bad input refused with a clear error and no change.
package security

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concrete fills a route's variables with names that exist in the rack.
func concrete(path string) string {
	return strings.NewReplacer("{app}", "app1", "{name}", "app1", "{id}", "BNOTREAL", "{key:.*}", "src/x.tgz").Replace(path)
}

// snapshot is everything a request could change, as JSON.
func snapshot(t *testing.T, r *rackenv.Rack) string {
	t.Helper()
	s := map[string]any{}
	s["apps"], _ = r.AppList()
	sys, _ := r.SystemGet()
	s["params"] = sys.Parameters
	s["builds"], _ = r.BuildList("app1", structs.BuildListOptions{})
	s["releases"], _ = r.ReleaseList("app1", structs.ReleaseListOptions{})
	s["object"], _ = r.ObjectExists("app1", "src/x.tgz")
	data, err := json.Marshal(s)
	require.NoError(t, err)
	return string(data)
}

// TestAuthEveryRouteOnLocalRack walks the API's own route table on a real
// local rack: every way of not knowing the password gets 401, a body that
// does not echo what was sent, and no change to the rack.
func TestAuthEveryRouteOnLocalRack(t *testing.T) {
	r := rackenv.Start(t, rackenv.Options{NoBuilds: true})
	_, err := r.Client.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	_, err = r.Client.ObjectStore("app1", "src/x.tgz", strings.NewReader("x"), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	routes := append(api.Routes(), api.Route{Method: "GET", Path: "/no/such/route"}, api.Route{Method: "PATCH", Path: "/system"})
	require.False(t, len(routes) < 20, "the route table has %d routes", len(routes))
	type login struct {
		name, user, pass string
		none             bool
	}
	logins := []login{
		{name: "none", none: true},
		{name: "wrong", user: "convox", pass: "wrong-password"},
		{name: "empty", user: "convox", pass: ""},
		{name: "in the user name", user: r.Password, pass: ""},
		{name: "case changed", user: "convox", pass: strings.ToUpper(r.Password)},
		{name: "prefix", user: "convox", pass: r.Password[:len(r.Password)-1]},
		{name: "suffix", user: "convox", pass: r.Password + " "},
		{name: "newline", user: "convox", pass: r.Password + "\n"},
	}
	before := snapshot(t, r)
	for _, rt := range routes {
		for _, l := range logins {
			url := "http://" + r.Addr + concrete(rt.Path)
			var code int
			var body string
			if rt.Method == "SOCKET" {
				h := http.Header{}
				if !l.none {
					h.Set("Authorization", basic(l.user, l.pass))
				}
				d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
				conn, res, err := d.Dial("ws"+strings.TrimPrefix(url, "http"), h)
				if err == nil {
					conn.Close()
					assert.Fail(t, fmt.Sprintf("%s %s with %s login: websocket opened", rt.Method, rt.Path, l.name))
					continue
				}
				require.NotNil(t, res, "dial %s: %v", url, err)
				code = res.StatusCode
				data, _ := io.ReadAll(res.Body)
				body = string(data)
			} else {
				req, err := http.NewRequest(rt.Method, url, strings.NewReader("parameters=BuildCache%3DYes&name=evil"))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if !l.none {
					req.Header.Set("Authorization", basic(l.user, l.pass))
				}
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err, "%s %s", rt.Method, url)
				data, _ := io.ReadAll(res.Body)
				res.Body.Close()
				code, body = res.StatusCode, string(data)
			}
			assert.Equal(t, http.StatusUnauthorized, code, "%s %s with %s login: status %d, want 401", rt.Method, rt.Path, l.name, code)
			assert.False(t, l.pass != "" && strings.Contains(body, strings.TrimSpace(l.pass)), "%s %s: the 401 body echoes the password sent", rt.Method, rt.Path)
		}
	}
	after := snapshot(t, r)
	assert.Equal(t, before, after, "unauthenticated requests changed the rack:\nbefore %s\nafter  %s", before, after)
	// the right password does get through, so the 401s above mean something
	req, _ := http.NewRequest("GET", "http://"+r.Addr+"/apps", nil)
	req.Header.Set("Authorization", basic("anyone", r.Password))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "GET /apps with the rack password: %d", res.StatusCode)
	assert.NotContains(t, r.Log(), r.Password, "the API log holds the rack password")
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}
