package api_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func appOpts() structs.AppCreateOptions { return structs.AppCreateOptions{} }

// send makes an authenticated request; form (if any) is sent url-encoded.
func send(t *testing.T, method, rawURL string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth("convox", password)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

func TestValidation(t *testing.T) {
	p, ts := newRack(t)
	build := url.Values{"url": {"object://app1/src/x.tgz"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range build {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	cases := []struct {
		name, method, path string
		form               url.Values
		code               int
		msg                string
	}{
		{"app name upper case", "POST", "/apps", url.Values{"name": {"Bad_Name"}}, 400, "invalid app name"},
		{"app name missing", "POST", "/apps", url.Values{}, 400, "invalid app name"},
		{"app name one letter", "POST", "/apps", url.Values{"name": {"m"}}, 400, `invalid app name "m": 2 to 30 lowercase letters`},
		{"app name dash at the end", "POST", "/apps", url.Values{"name": {"ab-"}}, 400, "ending with a letter or digit"},
		{"app name two dashes", "POST", "/apps", url.Values{"name": {"a--b"}}, 400, "single dashes"},
		{"app name too long", "POST", "/apps", url.Values{"name": {strings.Repeat("a", 31)}}, 400, "2 to 30"},
		{"an older app's one-letter name still reaches it", "GET", "/apps/m", nil, 404, "no such app"},
		{"app generation", "POST", "/apps", url.Values{"name": {"ok"}, "generation": {"3"}}, 400, "invalid generation"},
		{"app path upper case", "GET", "/apps/App1", nil, 400, "invalid app name"},
		{"unknown app", "GET", "/apps/nope", nil, 404, "no such app"},
		{"object key dotdot", "POST", "/apps/app1/objects/a/../../etc/passwd", nil, 400, "must not contain '..'"},
		{"object key absolute", "GET", "/apps/app1/objects//etc/passwd", nil, 400, "must be relative"},
		{"object key NUL", "GET", "/apps/app1/objects/a%00b", nil, 400, "NUL"},
		{"object missing", "GET", "/apps/app1/objects/none", nil, 404, "no such object"},
		{"object missing head", "HEAD", "/apps/app1/objects/none", nil, 404, ""},
		{"build id", "GET", "/apps/app1/builds/B1;rm", nil, 400, "invalid build id"},
		{"build unknown", "GET", "/apps/app1/builds/BNOPE", nil, 404, "no such build"},
		{"build export unknown", "GET", "/apps/app1/builds/BNOPE.tgz", nil, 404, "no such build"},
		{"build url missing", "POST", "/apps/app1/builds", url.Values{"description": {"x"}}, 400, "url required"},
		{"build url scheme", "POST", "/apps/app1/builds", url.Values{"url": {"file:///etc/passwd"}}, 400, "invalid url scheme"},
		{"build url object dotdot", "POST", "/apps/app1/builds", url.Values{"url": {"object://app1/../x"}}, 400, "'..'"},
		{"build arg", "POST", "/apps/app1/builds", with("build-args", "NOEQUALS"), 400, "invalid build arg"},
		{"build manifest", "POST", "/apps/app1/builds", with("manifest", "../convox.yml"), 400, "invalid manifest"},
		{"build manifest absolute", "POST", "/apps/app1/builds", with("manifest", "/etc/convox.yml"), 400, "must be relative"},
		{"build git sha", "POST", "/apps/app1/builds", with("git-sha", "not-hex"), 400, "invalid git-sha"},
		{"build list limit", "GET", "/apps/app1/builds?limit=abc", nil, 400, "invalid limit"},
		{"build list limit zero", "GET", "/apps/app1/builds?limit=0", nil, 400, "invalid limit"},
		{"release list limit", "GET", "/apps/app1/releases?limit=-1", nil, 400, "invalid limit"},
		{"release id", "POST", "/apps/app1/releases/R..1/promote", nil, 400, "invalid release id"},
		{"release unknown", "POST", "/apps/app1/releases/RNOPE/promote", nil, 404, "no such release"},
		{"release create build", "POST", "/apps/app1/releases", url.Values{"build": {"B/1"}}, 400, "invalid build id"},
		{"event action", "POST", "/events", url.Values{}, 400, "action required"},
		{"system no parameters", "PUT", "/system", url.Values{}, 400, "parameters required"},
		{"import garbage", "POST", "/apps/app1/builds/import", url.Values{"x": {"y"}}, 400, "import"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, tc.method, ts.URL+tc.path, tc.form)
			require.Equal(t, tc.code, code, "status %d, want %d (%s)", code, tc.code, body)
			require.Contains(t, body, tc.msg, "body %q does not mention %q", body, tc.msg)
		})
	}
	n := len(p.Calls("BuildCreate"))
	require.EqualValues(t, 0, n, "invalid builds reached the provider %d times", n)
}

func TestBuildUpdateValidation(t *testing.T) {
	p, ts := newRack(t)
	b, err := p.BuildCreate("app1", "object://app1/x.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	path := ts.URL + "/apps/app1/builds/" + b.Id
	for _, tc := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"status": {"bogus"}}, "invalid status"},
		{url.Values{"cache": {"not json"}}, "invalid cache summary"},
		{url.Values{"started": {"yesterday"}}, "invalid build update"},
		{url.Values{"release": {"R/1"}}, "invalid release id"},
	} {
		code, body := send(t, "PUT", path, tc.form)
		assert.EqualValues(t, 400, code, "%v: %d %q, want 400 mentioning %q", tc.form, code, body, tc.msg)
		assert.Contains(t, body, tc.msg, "%v: %d %q, want 400 mentioning %q", tc.form, code, body, tc.msg)
	}
	n := len(p.Calls("BuildUpdate"))
	require.EqualValues(t, 0, n, "invalid updates reached the provider %d times", n)
	code, body := send(t, "PUT", path, url.Values{"status": {"complete"}, "cache": {`[{"service":"web","steps":4,"cached":3}]`}})
	require.EqualValues(t, 200, code, "valid update: %d %s", code, body)
	require.Contains(t, body, `"service": "web"`, "valid update: %d %s", code, body)
}

// TestSystemUpdateValidatesParameters: the API checks parameters against the
// catalogue and answers 400 naming the problem; the provider is never called.
func TestSystemUpdateValidatesParameters(t *testing.T) {
	p, ts := newRack(t)
	for _, tc := range []struct{ params, msg string }{
		{"BuildCacheRetentionDays=0", "BuildCacheRetentionDays"},
		{"BuildCache=Maybe", "BuildCache"},
		{"NoSuchParameter=1", "NoSuchParameter"},
	} {
		code, body := send(t, "PUT", ts.URL+"/system", url.Values{"parameters": {tc.params}})
		assert.EqualValues(t, 400, code, "%s: %d %q, want 400 naming %s", tc.params, code, body, tc.msg)
		assert.Contains(t, body, tc.msg, "%s: %d %q, want 400 naming %s", tc.params, code, body, tc.msg)
	}
	n := len(p.Calls("SystemUpdate"))
	require.EqualValues(t, 0, n, "invalid parameters reached SystemUpdate %d times", n)
	code, body := send(t, "PUT", ts.URL+"/system", url.Values{"parameters": {"BuildCache=Yes&BuildCacheRetentionDays=14"}})
	require.EqualValues(t, 200, code, "valid update: %d %s", code, body)
	calls := p.Calls("SystemUpdate")
	require.Len(t, calls, 1, "SystemUpdate called %d times", len(calls))
	got := calls[0].Args[0].(structs.SystemUpdateOptions).Parameters
	require.EqualValues(t, "Yes", got["BuildCache"], "SystemUpdate got %v", got)
	require.EqualValues(t, "14", got["BuildCacheRetentionDays"], "SystemUpdate got %v", got)
	require.Len(t, got, 2, "SystemUpdate got %v", got)
}

func TestUploadLimit(t *testing.T) {
	p := apitest.New("test", nil)
	_, err := p.AppCreate("app1", appOpts())
	require.NoError(t, err)
	ts := httptest.NewServer(api.New(p, password, api.WithLog(io.Discard), api.WithMaxUpload(64)))
	defer ts.Close()
	// A real gzip stream of noise, so the import reads past the limit before it can fail.
	var big bytes.Buffer
	gz := gzip.NewWriter(&big)
	noise := make([]byte, 4096)
	_, _ = rand.Read(noise)
	_, _ = gz.Write(noise)
	gz.Close()
	for _, path := range []string{"/apps/app1/objects/big.tgz", "/apps/app1/builds/import"} {
		req, _ := http.NewRequest("POST", ts.URL+path, bytes.NewReader(big.Bytes()))
		req.SetBasicAuth("convox", password)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "%s: %d %q, want 413", path, res.StatusCode, body)
		assert.Contains(t, string(body), "upload too large: the limit is 64 bytes", "%s: %d %q, want 413", path, res.StatusCode, body)
	}
	_, ok := p.Object("app1", "big.tgz")
	require.False(t, ok, "an upload over the limit was stored")
}
