package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/gorilla/websocket"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const password = "s3cret-rack-password"

// newRack starts the API over an in-memory rack with one app, app1.
func newRack(t *testing.T) (*apitest.Provider, *httptest.Server) {
	t.Helper()
	p := apitest.New("test", map[string]string{"BuildCache": "No", "BuildCacheRetentionDays": "30"})
	_, err := p.AppCreate("app1", appOpts())
	require.NoError(t, err)
	ts := httptest.NewServer(api.New(p, password, api.WithLog(io.Discard)))
	t.Cleanup(ts.Close)
	return p, ts
}

// concrete fills the mux variables of a route path with valid values.
func concrete(path string) string {
	r := strings.NewReplacer("{app}", "app1", "{name}", "app1", "{id}", "B1", "{key:.*}", "src/x.tgz")
	return r.Replace(path)
}

// TestAuthEveryRoute walks the route table itself, so a route added later is
// covered without touching this test: no password and a wrong password get
// 401 and never reach the provider; the right password gets through.
func TestAuthEveryRoute(t *testing.T) {
	p, ts := newRack(t)
	routes := api.Routes()
	require.False(t, len(routes) < 20, "route table has %d routes, expected the full rack API", len(routes))
	routes = append(routes, api.Route{Method: "GET", Path: "/no/such/route"})

	cases := []struct {
		name     string
		user     string
		password string
		noAuth   bool
		want401  bool
	}{
		{name: "no password", noAuth: true, want401: true},
		{name: "wrong password", user: "convox", password: "wrong", want401: true},
		{name: "empty password", user: "convox", password: "", want401: true},
		{name: "right password", user: "convox", password: password, want401: false},
	}
	for _, rt := range routes {
		for _, tc := range cases {
			t.Run(rt.Method+" "+rt.Path+"/"+tc.name, func(t *testing.T) {
				before := len(p.Calls(""))
				var code int
				if rt.Method == "SOCKET" {
					code = dialStatus(t, ts.URL+concrete(rt.Path), tc.noAuth, tc.user, tc.password)
				} else {
					req, err := http.NewRequest(rt.Method, ts.URL+concrete(rt.Path), nil)
					require.NoError(t, err)
					if !tc.noAuth {
						req.SetBasicAuth(tc.user, tc.password)
					}
					res, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					res.Body.Close()
					code = res.StatusCode
					assert.False(t, code == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "", "401 without WWW-Authenticate")
				}
				if tc.want401 {
					require.Equal(t, http.StatusUnauthorized, code, "status %d, want 401", code)
					after := len(p.Calls(""))
					require.Equal(t, before, after, "unauthenticated request reached the provider (%d calls)", after-before)
				} else {
					require.NotEqual(t, http.StatusUnauthorized, code, "right password refused with 401")
				}
			})
		}
	}
}

// dialStatus opens a websocket and returns the HTTP status of the handshake (101 on success).
func dialStatus(t *testing.T, url string, noAuth bool, user, pass string) int {
	t.Helper()
	h := http.Header{}
	if !noAuth {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		h.Set("Authorization", req.Header.Get("Authorization"))
	}
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http"), h)
	if err == nil {
		// Read to the end so the handler is done with the provider before the next case counts calls.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
		conn.Close()
		return http.StatusSwitchingProtocols
	}
	require.NotNil(t, res, "dial: %v", err)
	return res.StatusCode
}

func TestEmptyRackPasswordLocksEverything(t *testing.T) {
	p := apitest.New("test", nil)
	ts := httptest.NewServer(api.New(p, "", api.WithLog(io.Discard)))
	defer ts.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/system", nil)
	req.SetBasicAuth("convox", "")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "status %d with an empty rack password, want 401", res.StatusCode)
}

// get requests path with the given password ("" sends no credentials) and returns the status and body.
func get(t *testing.T, url, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if pass != "" {
		req.SetBasicAuth("convox", pass)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// /check answers anyone, as upstream's does (the load balancer's health
// check), without asking the provider; /auth answers only the right password,
// which is what `convox login` checks.
func TestCheckAndAuth(t *testing.T) {
	p, ts := newRack(t)
	before := len(p.Calls(""))
	code, body := get(t, ts.URL+"/check", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	assert.Equal(t, before, len(p.Calls("")), "/check reached the provider")

	code, _ = get(t, ts.URL+"/auth", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, ts.URL+"/auth", "wrong")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, ts.URL+"/auth", password)
	assert.Equal(t, http.StatusOK, code)
}

// With WithPasswordFunc a new password works at once and the old one stops working.
func TestPasswordChangesWithoutRestart(t *testing.T) {
	p := apitest.New("test", nil)
	var mu sync.Mutex
	current := "first-password"
	ts := httptest.NewServer(api.New(p, "", api.WithLog(io.Discard), api.WithPasswordFunc(func() string {
		mu.Lock()
		defer mu.Unlock()
		return current
	})))
	defer ts.Close()
	code, _ := get(t, ts.URL+"/system", "first-password")
	require.Equal(t, http.StatusOK, code)
	mu.Lock()
	current = "second-password"
	mu.Unlock()
	code, _ = get(t, ts.URL+"/system", "first-password")
	assert.Equal(t, http.StatusUnauthorized, code, "the old password still works")
	code, _ = get(t, ts.URL+"/system", "second-password")
	assert.Equal(t, http.StatusOK, code, "the new password is refused")
}
