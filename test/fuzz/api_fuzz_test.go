// Package fuzz holds fuzz targets for packages whose parsers are reached
// through their exported API: the rack API's option parsing and the build
// export/import archive.
package fuzz

import (
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

const password = "fuzz-password"

// serve sends one authenticated form request to a fresh API over an in-memory rack.
func serve(t *testing.T, method, target string, form url.Values) (*apitest.Provider, *httptest.ResponseRecorder) {
	p := apitest.New("fuzz", params.Defaults())
	p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Status: structs.BuildStatusComplete}
	}
	_, err := p.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	h := api.New(p, password, api.WithLog(io.Discard))
	req := httptest.NewRequest(method, "http://rack"+target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("convox", password)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return p, rec
}

// FuzzBuildCreateOptions: whatever a client sends to POST /apps/{app}/builds,
// the API answers below 500, and what it passes to the provider is valid:
// KEY=VALUE build args, a relative manifest inside the source, an
// object/http(s) url, a hexadecimal git sha.
func FuzzBuildCreateOptions(f *testing.F) {
	f.Add("object://app1/tmp/src.tgz", "A=1\nB=2", "convox.yml", "first build", "abc123", "false", "true")
	f.Add("object://app1/../../etc/passwd", "NOEQUALS", "../convox.yml", "x", "zz", "maybe", "")
	f.Add("https://example.com/src.tgz", "=x", "/etc/passwd", "\x00", "", "true", "false")
	f.Add("file:///etc/passwd", "TOKEN=a=b=c", "a/../../b", strings.Repeat("d", 5000), "0123456789abcdef", "1", "0")
	f.Add("object://", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, src, args, manifest, desc, sha, noCache, dev string) {
		defer watchdog(execLimit)()
		form := url.Values{"url": {src}, "manifest": {manifest}, "description": {desc}, "git-sha": {sha},
			"no-cache": {noCache}, "development": {dev}}
		for _, a := range strings.Split(args, "\n") {
			form.Add("build-args", a)
		}
		p, rec := serve(t, "POST", "/apps/app1/builds", form)
		require.False(t, rec.Code >= 500, "status %d for client input: %s", rec.Code, rec.Body)
		calls := p.Calls("BuildCreate")
		if rec.Code >= 300 {
			require.Empty(t, calls, "refused (%d) but the provider was called", rec.Code)
			return
		}
		require.Len(t, calls, 1, "accepted with %d provider calls", len(calls))
		gotURL := calls[0].Args[1].(string)
		opts := calls[0].Args[2].(structs.BuildCreateOptions)
		u, err := url.Parse(gotURL)
		require.NoError(t, err, "accepted url %q", gotURL)
		require.False(t, u.Scheme != "object" && u.Scheme != "http" && u.Scheme != "https", "accepted url %q", gotURL)
		require.False(t, u.Scheme == "object" && escapes(strings.TrimPrefix(u.Path, "/")), "accepted object url escaping its app: %q", gotURL)
		for _, a := range opts.BuildArgs {
			name, _, ok := strings.Cut(a, "=")
			require.True(t, ok, "accepted build arg %q", a)
			require.NotEmpty(t, name, "accepted build arg %q", a)
		}
		if opts.Manifest != nil && *opts.Manifest != "" {
			require.False(t, strings.HasPrefix(*opts.Manifest, "/"), "accepted manifest %q", *opts.Manifest)
			require.False(t, escapes(*opts.Manifest), "accepted manifest %q", *opts.Manifest)
		}
		if opts.GitSha != nil {
			require.Empty(t, strings.Trim(*opts.GitSha, "0123456789abcdefABCDEF"), "accepted git sha %q", *opts.GitSha)
		}
	})
}

// escapes reports whether a relative path climbs out of its root.
func escapes(p string) bool {
	if strings.Contains(p, "\x00") {
		return true
	}
	for _, part := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// FuzzSystemParameters: PUT /system with any parameters value answers below
// 500, and the rack's parameters change only to what the catalogue accepts.
func FuzzSystemParameters(f *testing.F) {
	f.Add("BuildCache=Yes&BuildCacheRetentionDays=14")
	f.Add("BuildCacheRetentionDays=0")
	f.Add("BuildCache=Maybe&NoSuch=1")
	f.Add("%zz&&=&BuildCache")
	f.Add("BuildCacheRetentionDays=365&BuildCacheCleanup=Yes&BuildMethod=fargate")
	f.Add("Password=x%00y")
	f.Fuzz(func(t *testing.T, raw string) {
		defer watchdog(execLimit)()
		p, rec := serve(t, "PUT", "/system", url.Values{"parameters": {raw}})
		require.False(t, rec.Code >= 500, "status %d for client input: %s", rec.Code, rec.Body)
		sys, err := p.SystemGet()
		require.NoError(t, err)
		require.NoError(t, params.Validate(sys.Parameters), "rack parameters invalid after %q (status %d)", raw, rec.Code)
		require.False(t, rec.Code >= 300 && len(p.Calls("SystemUpdate")) > 0, "refused (%d) but the provider was called", rec.Code)
	})
}
