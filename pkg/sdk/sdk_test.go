package sdk_test

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
)

const password = "pw-for-sdk"

func rack(t *testing.T) (*apitest.Provider, *sdk.Client, string) {
	t.Helper()
	p := apitest.New("test", map[string]string{"BuildCache": "No"})
	ts := httptest.NewServer(api.New(p, password, api.WithLog(io.Discard)))
	t.Cleanup(ts.Close)
	u := strings.Replace(ts.URL, "http://", "http://convox:"+password+"@", 1)
	c, err := sdk.New(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppCreate("app1", structs.AppCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return p, c, ts.URL
}

func ptr[T any](v T) *T { return &v }

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := sdk.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	t.Setenv("RACK_URL", "")
	if _, err := sdk.NewFromEnv(); err == nil || !strings.Contains(err.Error(), "RACK_URL") {
		t.Fatalf("NewFromEnv without RACK_URL: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	_, _, raw := rack(t)
	c, err := sdk.New(strings.Replace(raw, "http://", "http://convox:nope@", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SystemGet()
	var e *sdk.Error
	if !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("SystemGet with a wrong password: %v", err)
	}
	if _, err := c.BuildLogs("app1", "B1", structs.LogsOptions{}); !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("BuildLogs with a wrong password: %v", err)
	}
}

func TestSystemAndApps(t *testing.T) {
	p, c, _ := rack(t)
	s, err := c.SystemGet()
	if err != nil || s.Name != "test" || s.Parameters["BuildCache"] != "No" {
		t.Fatalf("SystemGet %+v %v", s, err)
	}
	if err := c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes", "BuildCacheRetentionDays": "14"}}); err != nil {
		t.Fatal(err)
	}
	got := p.Calls("SystemUpdate")[0].Args[0].(structs.SystemUpdateOptions).Parameters
	if got["BuildCache"] != "Yes" || got["BuildCacheRetentionDays"] != "14" {
		t.Fatalf("SystemUpdate got %v", got)
	}
	err = c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheRetentionDays": "0"}})
	if !errors.Is(err, structs.ErrInvalid) {
		t.Fatalf("invalid parameter: %v, want ErrInvalid", err)
	}
	if _, err := c.AppGet("nope"); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("AppGet(nope): %v, want ErrNotFound", err)
	}
	as, err := c.AppList()
	if err != nil || len(as) != 1 || as[0].Name != "app1" {
		t.Fatalf("AppList %v %v", as, err)
	}
	if err := c.EventSend("build:create", structs.EventSendOptions{Data: map[string]string{"app": "app1"}}); err != nil {
		t.Fatal(err)
	}
	if d := p.Calls("EventSend")[0].Args[1].(structs.EventSendOptions).Data; d["app"] != "app1" {
		t.Fatalf("event data %v", d)
	}
	if err := c.AppDelete("app1"); err != nil {
		t.Fatal(err)
	}
}

func TestObjects(t *testing.T) {
	_, c, _ := rack(t)
	data := bytes.Repeat([]byte("layer"), 100000)
	o, err := c.ObjectStore("app1", "tmp/with space/src.tgz", bytes.NewReader(data), structs.ObjectStoreOptions{Public: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if o.Url != "object://app1/tmp/with space/src.tgz" {
		t.Fatalf("url %q", o.Url)
	}
	if ok, err := c.ObjectExists("app1", "tmp/with space/src.tgz"); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if ok, err := c.ObjectExists("app1", "missing"); ok || err != nil {
		t.Fatalf("exists(missing): %v %v", ok, err)
	}
	r, err := c.ObjectFetch("app1", "tmp/with space/src.tgz")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("fetched %d bytes, stored %d", len(got), len(data))
	}
	if _, err := c.ObjectFetch("app1", "missing"); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("fetch missing: %v", err)
	}
	if _, err := c.ObjectStore("app1", "../escape", strings.NewReader("x"), structs.ObjectStoreOptions{}); !errors.Is(err, structs.ErrInvalid) {
		t.Fatalf("store ../escape: %v", err)
	}
	if err := c.ObjectDelete("app1", "tmp/with space/src.tgz"); err != nil {
		t.Fatal(err)
	}
}

func TestBuildLifecycle(t *testing.T) {
	p, c, _ := rack(t)
	p.Build = func(app string, opts structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"step 1\n", "step 2\n", "done\n"}, Status: structs.BuildStatusComplete}
	}
	b, err := c.BuildCreate("app1", "object://app1/src.tgz", structs.BuildCreateOptions{
		NoCache: ptr(true), BuildArgs: []string{"A=1", "B=2"}, Description: ptr("d"), GitSha: ptr("abcdef1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	if opts.NoCache == nil || !*opts.NoCache || len(opts.BuildArgs) != 2 || *opts.GitSha != "abcdef1" {
		t.Fatalf("BuildCreate options %+v", opts)
	}
	r, err := c.BuildLogs("app1", b.Id, structs.LogsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(logs) != "step 1\nstep 2\ndone\n" {
		t.Fatalf("logs %q %v", logs, err)
	}
	got, err := c.BuildGet("app1", b.Id)
	if err != nil || got.Status != structs.BuildStatusComplete || got.Release == "" {
		t.Fatalf("BuildGet %+v %v", got, err)
	}

	start, end := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	u, err := c.BuildUpdate("app1", b.Id, structs.BuildUpdateOptions{
		Started: &start, Ended: &end, Status: ptr("complete"),
		Cache: ptr(`[{"service":"web","steps":5,"cached":4,"seconds":1.5,"persistent-cache":true}]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Started.Equal(start) || !u.Ended.Equal(end) || len(u.Cache) != 1 || u.Cache[0].Cached != 4 || !u.Cache[0].PersistentCache {
		t.Fatalf("BuildUpdate %+v", u)
	}
	bs, err := c.BuildList("app1", structs.BuildListOptions{Limit: ptr(1)})
	if err != nil || len(bs) != 1 || p.Calls("BuildList")[0].Args[1].(structs.BuildListOptions).Limit == nil {
		t.Fatalf("BuildList %v %v", bs, err)
	}

	// The handshake succeeds before the rack knows the build: the error comes
	// as a close code and surfaces on Read as ErrNotFound.
	lr, err := c.BuildLogs("app1", "BNOPE", structs.LogsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, rerr := io.ReadAll(lr)
	lr.Close()
	if !errors.Is(rerr, structs.ErrNotFound) || len(out) != 0 {
		t.Fatalf("logs of a missing build: %q %v, want ErrNotFound", out, rerr)
	}
}

func TestExportImportReleases(t *testing.T) {
	_, c, _ := rack(t)
	if _, err := c.AppCreate("app2", structs.AppCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := c.BuildCreate("app1", "object://app1/src.tgz", structs.BuildCreateOptions{Description: ptr("exported")})
	if err != nil {
		t.Fatal(err)
	}
	waitBuild(t, c, "app1", b.Id)
	var buf bytes.Buffer
	if err := c.BuildExport("app1", b.Id, &buf); err != nil {
		t.Fatal(err)
	}
	if err := c.BuildExport("app1", "BNOPE", io.Discard); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("export missing: %v", err)
	}
	nb, err := c.BuildImport("app2", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if nb.App != "app2" || nb.Description != "exported" || nb.Release == "" {
		t.Fatalf("imported %+v", nb)
	}
	rs, err := c.ReleaseList("app2", structs.ReleaseListOptions{})
	if err != nil || len(rs) != 1 || rs[0].Id != nb.Release {
		t.Fatalf("releases %v %v", rs, err)
	}
	if err := c.ReleasePromote("app2", nb.Release, structs.ReleasePromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := c.AppGet("app2")
	if a.Release != nb.Release {
		t.Fatalf("active release %q, promoted %q", a.Release, nb.Release)
	}
	r, err := c.ReleaseCreate("app2", structs.ReleaseCreateOptions{Build: ptr(nb.Id), Env: ptr("A=1")})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := c.ReleaseGet("app2", r.Id); err != nil || g.Env != "A=1" || g.Build != nb.Id {
		t.Fatalf("ReleaseGet %+v %v", g, err)
	}
}

func waitBuild(t *testing.T, c *sdk.Client, app, id string) *structs.Build {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := c.BuildGet(app, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.Terminal() {
			return b
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("build %s did not finish", id)
	return nil
}
