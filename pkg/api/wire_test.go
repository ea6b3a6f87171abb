package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdsdk"
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
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	calls := p.Calls("BuildCreate")
	if len(calls) != 1 {
		t.Fatalf("BuildCreate called %d times", len(calls))
	}
	if calls[0].Args[1] != "object://app1/tmp/src.tgz" {
		t.Fatalf("url %v", calls[0].Args[1])
	}
	opts := calls[0].Args[2].(structs.BuildCreateOptions)
	yes := func(b *bool) bool { return b != nil && *b }
	str := func(s *string) string {
		if s == nil {
			return "<nil>"
		}
		return *s
	}
	if !yes(opts.NoCache) || !yes(opts.Development) || !yes(opts.WildcardDomain) {
		t.Fatalf("flags lost: no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	}
	if !reflect.DeepEqual(opts.BuildArgs, []string{"A=1", "B=two"}) {
		t.Fatalf("build args %q", opts.BuildArgs)
	}
	if str(opts.Description) != "build 7329df90c1 my change" || str(opts.Manifest) != "convox.staging.yml" || str(opts.GitSha) != "7329df90c1aa" {
		t.Fatalf("description %q manifest %q git-sha %q", str(opts.Description), str(opts.Manifest), str(opts.GitSha))
	}

	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Fields("id app description entrypoint git-sha logs manifest process release reason status started ended wildcard-domain") {
		if _, ok := raw[k]; !ok {
			t.Errorf("build JSON lacks %q: %s", k, body)
		}
	}
	if raw["git-sha"] != "7329df90c1aa" || raw["wildcard-domain"] != true {
		t.Errorf("build JSON %s", body)
	}
}

// TestBuildCreateFlagsOff: absent booleans stay nil, so the provider applies its defaults.
func TestBuildCreateFlagsOff(t *testing.T) {
	p, ts := newRack(t)
	code, body := send(t, "POST", ts.URL+"/apps/app1/builds", url.Values{"url": {"object://app1/x.tgz"}})
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	opts := p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	if opts.NoCache != nil || opts.Development != nil || len(opts.BuildArgs) != 0 {
		t.Fatalf("unexpected options %+v", opts)
	}
}

// TestLogsWithStdsdkClient reads build logs the way existing Convox clients
// do (stdsdk's websocket), which ends the stream on an empty binary message.
func TestLogsWithStdsdkClient(t *testing.T) {
	p, ts := newRack(t)
	p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"one\n", "two\n"}, Status: structs.BuildStatusComplete}
	}
	b, err := p.BuildCreate("app1", "object://app1/x.tgz", structs.BuildCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := stdsdk.New(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.Headers = func() http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth("convox", password)
		return req.Header
	}
	r, err := c.Websocket("/apps/app1/builds/"+b.Id+"/logs", stdsdk.RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() {
		data, _ := io.ReadAll(r)
		done <- data
	}()
	select {
	case data := <-done:
		if string(data) != "one\ntwo\n" {
			t.Fatalf("logs %q", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
}
