package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdsdk"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildCreateWire posts the form exactly as a Convox CLI does and checks
// every field reaches the provider, and that the answer uses Convox JSON names.
func TestBuildCreateWire(t *testing.T) {
	p, ts := newRack(t)
	form := url.Values{
		"url":             {"object://app1/tmp/src.tgz"},
		"no-cache":        {"true"},
		"build-args":      {"A=1,B=two"},
		"description":     {"build 7329df90c1 my change"},
		"development":     {"true"},
		"manifest":        {"convox.staging.yml"},
		"wildcard-domain": {"true"},
		"git-sha":         {"7329df90c1aa"},
	}
	code, body := send(t, "POST", ts.URL+"/apps/app1/builds", form)
	require.EqualValues(t, 200, code, "status %d: %s", code, body)
	calls := p.Calls("BuildCreate")
	require.Len(t, calls, 1, "BuildCreate called %d times", len(calls))
	require.EqualValues(t, "object://app1/tmp/src.tgz", calls[0].Args[1], "url %v", calls[0].Args[1])
	opts := calls[0].Args[2].(structs.BuildCreateOptions)
	yes := func(b *bool) bool { return b != nil && *b }
	str := func(s *string) string {
		if s == nil {
			return "<nil>"
		}
		return *s
	}
	require.True(t, yes(opts.NoCache), "flags lost: no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	require.True(t, yes(opts.Development), "flags lost: no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	require.True(t, yes(opts.WildcardDomain), "flags lost: no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	require.Equal(t, []string{"A=1", "B=two"}, opts.BuildArgs, "build args")
	require.EqualValues(t, "build 7329df90c1 my change", str(opts.Description), "description %q manifest %q git-sha %q", str(opts.Description), str(opts.Manifest), str(opts.GitSha))
	require.EqualValues(t, "convox.staging.yml", str(opts.Manifest), "description %q manifest %q git-sha %q", str(opts.Description), str(opts.Manifest), str(opts.GitSha))
	require.EqualValues(t, "7329df90c1aa", str(opts.GitSha), "description %q manifest %q git-sha %q", str(opts.Description), str(opts.Manifest), str(opts.GitSha))

	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	for _, k := range strings.Fields("id app description entrypoint git-sha logs manifest process release reason status started ended wildcard-domain") {
		_, ok := raw[k]
		assert.True(t, ok, "build JSON lacks %q: %s", k, body)
	}
	assert.EqualValues(t, "7329df90c1aa", raw["git-sha"], "build JSON %s", body)
	assert.EqualValues(t, true, raw["wildcard-domain"], "build JSON %s", body)
}

// TestBuildCreateFlagsOff: absent booleans stay nil, so the provider applies its defaults.
func TestBuildCreateFlagsOff(t *testing.T) {
	p, ts := newRack(t)
	code, body := send(t, "POST", ts.URL+"/apps/app1/builds", url.Values{"url": {"object://app1/x.tgz"}})
	require.EqualValues(t, 200, code, "status %d: %s", code, body)
	opts := p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	require.Nil(t, opts.NoCache, "unexpected options %+v", opts)
	require.Nil(t, opts.Development, "unexpected options %+v", opts)
	require.Empty(t, opts.BuildArgs, "unexpected options %+v", opts)
}

// TestLogsWithStdsdkClient reads build logs the way existing Convox clients
// do (stdsdk's websocket), which ends the stream on an empty binary message.
func TestLogsWithStdsdkClient(t *testing.T) {
	p, ts := newRack(t)
	p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"one\n", "two\n"}, Status: structs.BuildStatusComplete}
	}
	b, err := p.BuildCreate("app1", "object://app1/x.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	c, err := stdsdk.New(ts.URL)
	require.NoError(t, err)
	c.Headers = func() http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth("convox", password)
		return req.Header
	}
	r, err := c.Websocket("/apps/app1/builds/"+b.Id+"/logs", stdsdk.RequestOptions{})
	require.NoError(t, err)
	done := make(chan []byte)
	go func() {
		data, _ := io.ReadAll(r)
		done <- data
	}()
	select {
	case data := <-done:
		require.EqualValues(t, "one\ntwo\n", string(data), "logs %q", data)
	case <-time.After(5 * time.Second):
		require.Fail(t, "the stream did not end")
	}
}
