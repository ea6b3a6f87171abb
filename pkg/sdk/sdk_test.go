package sdk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const password = "pw-for-sdk"

func rack(t *testing.T) (*apitest.Provider, *sdk.Client, string) {
	t.Helper()
	p := apitest.New("test", map[string]string{"BuildCache": "No"})
	ts := httptest.NewServer(api.New(p, password, api.WithLog(io.Discard)))
	t.Cleanup(ts.Close)
	u := strings.Replace(ts.URL, "http://", "http://convox:"+password+"@", 1)
	c, err := sdk.New(u)
	require.NoError(t, err)
	_, err = c.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	return p, c, ts.URL
}

func ptr[T any](v T) *T { return &v }

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		_, err := sdk.New(u)
		assert.Error(t, err, "New(%q) accepted", u)
	}
	t.Setenv("RACK_URL", "")
	_, err := sdk.NewFromEnv()
	require.ErrorContains(t, err, "RACK_URL", "NewFromEnv without RACK_URL: %v", err)
}

func TestWrongPassword(t *testing.T) {
	_, _, raw := rack(t)
	c, err := sdk.New(strings.Replace(raw, "http://", "http://convox:nope@", 1))
	require.NoError(t, err)
	_, err = c.SystemGet()
	var e *sdk.Error
	require.True(t, errors.As(err, &e), "SystemGet with a wrong password: %v", err)
	require.EqualValues(t, 401, e.Status, "SystemGet with a wrong password: %v", err)
	_, err = c.BuildLogs("app1", "B1", structs.LogsOptions{})
	require.True(t, errors.As(err, &e), "BuildLogs with a wrong password: %v", err)
	require.EqualValues(t, 401, e.Status, "BuildLogs with a wrong password: %v", err)
}

func TestSystemAndApps(t *testing.T) {
	p, c, _ := rack(t)
	s, err := c.SystemGet()
	require.NoError(t, err, "SystemGet %+v %v", s, err)
	require.EqualValues(t, "test", s.Name, "SystemGet %+v %v", s, err)
	require.EqualValues(t, "No", s.Parameters["BuildCache"], "SystemGet %+v %v", s, err)
	err = c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes", "BuildCacheRetentionDays": "14"}})
	require.NoError(t, err)
	got := p.Calls("SystemUpdate")[0].Args[0].(structs.SystemUpdateOptions).Parameters
	require.EqualValues(t, "Yes", got["BuildCache"], "SystemUpdate got %v", got)
	require.EqualValues(t, "14", got["BuildCacheRetentionDays"], "SystemUpdate got %v", got)
	err = c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheRetentionDays": "0"}})
	require.ErrorIs(t, err, structs.ErrInvalid, "invalid parameter: %v, want ErrInvalid", err)
	_, err = c.AppGet("nope")
	require.ErrorIs(t, err, structs.ErrNotFound, "AppGet(nope): %v, want ErrNotFound", err)
	as, err := c.AppList()
	require.NoError(t, err, "AppList %v %v", as, err)
	require.Len(t, as, 1, "AppList %v %v", as, err)
	require.EqualValues(t, "app1", as[0].Name, "AppList %v %v", as, err)
	err = c.EventSend("build:create", structs.EventSendOptions{Data: map[string]string{"app": "app1"}})
	require.NoError(t, err)
	d := p.Calls("EventSend")[0].Args[1].(structs.EventSendOptions).Data
	require.EqualValues(t, "app1", d["app"], "event data %v", d)
	require.NoError(t, c.AppDelete("app1"))
}

func TestObjects(t *testing.T) {
	_, c, _ := rack(t)
	data := bytes.Repeat([]byte("layer"), 100000)
	o, err := c.ObjectStore("app1", "tmp/with space/src.tgz", bytes.NewReader(data), structs.ObjectStoreOptions{Public: ptr(false)})
	require.NoError(t, err)
	require.EqualValues(t, "object://app1/tmp/with space/src.tgz", o.Url, "url %q", o.Url)
	ok, err := c.ObjectExists("app1", "tmp/with space/src.tgz")
	require.True(t, ok, "exists: %v %v", ok, err)
	require.NoError(t, err, "exists: %v %v", ok, err)
	ok, err = c.ObjectExists("app1", "missing")
	require.False(t, ok, "exists(missing): %v %v", ok, err)
	require.NoError(t, err, "exists(missing): %v %v", ok, err)
	r, err := c.ObjectFetch("app1", "tmp/with space/src.tgz")
	require.NoError(t, err)
	got, _ := io.ReadAll(r)
	r.Close()
	require.True(t, bytes.Equal(got, data), "fetched %d bytes, stored %d", len(got), len(data))
	_, err = c.ObjectFetch("app1", "missing")
	require.ErrorIs(t, err, structs.ErrNotFound, "fetch missing: %v", err)
	_, err = c.ObjectStore("app1", "../escape", strings.NewReader("x"), structs.ObjectStoreOptions{})
	require.ErrorIs(t, err, structs.ErrInvalid, "store ../escape: %v", err)
	require.NoError(t, c.ObjectDelete("app1", "tmp/with space/src.tgz"))
}

func TestBuildLifecycle(t *testing.T) {
	p, c, _ := rack(t)
	p.Build = func(app string, opts structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"step 1\n", "step 2\n", "done\n"}, Status: structs.BuildStatusComplete}
	}
	b, err := c.BuildCreate("app1", "object://app1/src.tgz", structs.BuildCreateOptions{
		NoCache: ptr(true), BuildArgs: []string{"A=1", "B=2"}, Description: ptr("d"), GitSha: ptr("abcdef1"),
	})
	require.NoError(t, err)
	opts := p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	require.NotNil(t, opts.NoCache, "BuildCreate options %+v", opts)
	require.True(t, *opts.NoCache, "BuildCreate options %+v", opts)
	require.Len(t, opts.BuildArgs, 2, "BuildCreate options %+v", opts)
	require.EqualValues(t, "abcdef1", *opts.GitSha, "BuildCreate options %+v", opts)
	r, err := c.BuildLogs("app1", b.Id, structs.LogsOptions{})
	require.NoError(t, err)
	logs, err := io.ReadAll(r)
	r.Close()
	require.NoError(t, err, "logs %q %v", logs, err)
	require.EqualValues(t, "step 1\nstep 2\ndone\n", string(logs), "logs %q %v", logs, err)
	got, err := c.BuildGet("app1", b.Id)
	require.NoError(t, err, "BuildGet %+v %v", got, err)
	require.Equal(t, structs.BuildStatusComplete, got.Status, "BuildGet %+v %v", got, err)
	require.NotEmpty(t, got.Release, "BuildGet %+v %v", got, err)

	start, end := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	u, err := c.BuildUpdate("app1", b.Id, structs.BuildUpdateOptions{
		Started: &start, Ended: &end, Status: ptr("complete"),
		Cache:  ptr(`[{"service":"web","steps":5,"cached":4,"seconds":1.5,"persistent-cache":true}]`),
		Inputs: ptr("sha256:" + strings.Repeat("ab", 32)), Reused: ptr("BEARLIER"),
	})
	require.NoError(t, err)
	// The build has finished: its times are its outcome and stay (structs.Build.Apply); the summary goes through.
	require.True(t, u.Started.Equal(got.Started), "BuildUpdate %+v", u)
	require.True(t, u.Ended.Equal(got.Ended), "BuildUpdate %+v", u)
	require.Equal(t, start, p.Calls("BuildUpdate")[0].Args[2].(structs.BuildUpdateOptions).Started.UTC(), "the times crossed the wire")
	require.Equal(t, end, p.Calls("BuildUpdate")[0].Args[2].(structs.BuildUpdateOptions).Ended.UTC(), "the times crossed the wire")
	require.Equal(t, "sha256:"+strings.Repeat("ab", 32), u.Inputs, "BuildUpdate %+v", u)
	require.Equal(t, "BEARLIER", u.Reused, "BuildUpdate %+v", u)
	require.Len(t, u.Cache, 1, "BuildUpdate %+v", u)
	require.EqualValues(t, 4, u.Cache[0].Cached, "BuildUpdate %+v", u)
	require.True(t, u.Cache[0].PersistentCache, "BuildUpdate %+v", u)
	bs, err := c.BuildList("app1", structs.BuildListOptions{Limit: ptr(1)})
	require.NoError(t, err, "BuildList %v %v", bs, err)
	require.Len(t, bs, 1, "BuildList %v %v", bs, err)
	require.NotNil(t, p.Calls("BuildList")[0].Args[1].(structs.BuildListOptions).Limit, "BuildList %v %v", bs, err)

	// The handshake succeeds before the rack knows the build: the error comes
	// as a close code and surfaces on Read as ErrNotFound.
	lr, err := c.BuildLogs("app1", "BNOPE", structs.LogsOptions{})
	require.NoError(t, err)
	out, rerr := io.ReadAll(lr)
	lr.Close()
	require.ErrorIs(t, rerr, structs.ErrNotFound, "logs of a missing build: %q %v, want ErrNotFound", out, rerr)
	require.Empty(t, out, "logs of a missing build: %q %v, want ErrNotFound", out, rerr)
}

func TestExportImportReleases(t *testing.T) {
	_, c, _ := rack(t)
	_, err := c.AppCreate("app2", structs.AppCreateOptions{})
	require.NoError(t, err)
	b, err := c.BuildCreate("app1", "object://app1/src.tgz", structs.BuildCreateOptions{Description: ptr("exported")})
	require.NoError(t, err)
	waitBuild(t, c, "app1", b.Id)
	var buf bytes.Buffer
	require.NoError(t, c.BuildExport("app1", b.Id, &buf))
	err = c.BuildExport("app1", "BNOPE", io.Discard)
	require.ErrorIs(t, err, structs.ErrNotFound, "export missing: %v", err)
	nb, err := c.BuildImport("app2", &buf)
	require.NoError(t, err)
	require.EqualValues(t, "app2", nb.App, "imported %+v", nb)
	require.EqualValues(t, "exported", nb.Description, "imported %+v", nb)
	require.NotEmpty(t, nb.Release, "imported %+v", nb)
	rs, err := c.ReleaseList("app2", structs.ReleaseListOptions{})
	require.NoError(t, err, "releases %v %v", rs, err)
	require.Len(t, rs, 1, "releases %v %v", rs, err)
	require.Equal(t, nb.Release, rs[0].Id, "releases %v %v", rs, err)
	err = c.ReleasePromote("app2", nb.Release, structs.ReleasePromoteOptions{})
	require.NoError(t, err)
	a, _ := c.AppGet("app2")
	require.Equal(t, nb.Release, a.Release, "active release %q, promoted %q", a.Release, nb.Release)
	r, err := c.ReleaseCreate("app2", structs.ReleaseCreateOptions{Build: ptr(nb.Id), Env: ptr("A=1")})
	require.NoError(t, err)
	g, err := c.ReleaseGet("app2", r.Id)
	require.NoError(t, err, "ReleaseGet %+v %v", g, err)
	require.EqualValues(t, "A=1", g.Env, "ReleaseGet %+v %v", g, err)
	require.Equal(t, nb.Id, g.Build, "ReleaseGet %+v %v", g, err)
}

func waitBuild(t *testing.T, c *sdk.Client, app, id string) *structs.Build {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := c.BuildGet(app, id)
		require.NoError(t, err)
		if b.Terminal() {
			return b
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Fail(t, fmt.Sprintf("build %s did not finish", id))
	return nil
}
