package cli_test

import (
	"strings"
	"testing"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRackParamsSetRejectsBeforeRequest: a value out of range fails on the
// client, naming the allowed range, and the rack never sees a request.
func TestRackParamsSetRejectsBeforeRequest(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "params", "set", "BuildCacheRetentionDays=0", "-r", r.url)
	require.EqualValues(t, 1, res.code, "exit %d, want 1; stdout %q stderr %q", res.code, res.stdout, res.stderr)
	mustContain(t, "stderr", res.stderr, "ERROR: ", "BuildCacheRetentionDays", "1", "365")
	n := r.requests.Load()
	require.EqualValues(t, 0, n, "the rack got %d requests for an invalid parameter", n)
	for _, bad := range []string{"NoSuchParam=1", "BuildCache=maybe", "novalue"} {
		res := convox(t, nil, "rack", "params", "set", bad, "-r", r.url)
		assert.EqualValues(t, 1, res.code, "%s: exit %d stderr %q", bad, res.code, res.stderr)
		assert.Contains(t, res.stderr, "ERROR: ", "%s: exit %d stderr %q", bad, res.code, res.stderr)
	}
	n = r.requests.Load()
	require.EqualValues(t, 0, n, "the rack got %d requests for invalid parameters", n)
}

func TestRackParamsSetReachesSystemUpdate(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "params", "set", "BuildCache=Yes", "BuildCacheRetentionDays=14", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.EqualValues(t, "Updating parameters... OK\n", res.stdout, "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	calls := r.p.Calls("SystemUpdate")
	require.Len(t, calls, 1, "SystemUpdate called %d times", len(calls))
	got := calls[0].Args[0].(structs.SystemUpdateOptions).Parameters
	require.EqualValues(t, "Yes", got["BuildCache"], "SystemUpdate got %v", got)
	require.EqualValues(t, "14", got["BuildCacheRetentionDays"], "SystemUpdate got %v", got)
	require.Len(t, got, 2, "SystemUpdate got %v", got)
}

func TestRackParamsSetWait(t *testing.T) {
	r := newRack(t)
	r.p.UpdatingPolls = 3
	res := convox(t, nil, "rack", "params", "set", "BuildCacheCleanup=Yes", "--wait", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.True(t, strings.HasSuffix(res.stdout, "OK\n"), "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	n := len(r.p.Calls("SystemGet"))
	require.EqualValues(t, 4, n, "--wait polled SystemGet %d times, want 4 (3 updating, then running)", n)
}

func TestRackParamsGroupsAndSecrets(t *testing.T) {
	r := newRack(t)
	var secret string
	for _, p := range params.All() {
		if p.Secret {
			secret = p.Name
			break
		}
	}
	require.NotEmpty(t, secret, "the catalogue has no secret parameter: masking not exercised")
	require.NoError(t, r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{secret: "hunter2"}}))

	res := convox(t, nil, "rack", "params", "-g", "build", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stderr %q", res.code, res.stderr)
	mustContain(t, "rack params -g build", res.stdout, "BuildCache ", "BuildCacheCleanup ", "BuildCacheRetentionDays ")
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		name := strings.Fields(line)[0]
		p, ok := params.Lookup(name)
		assert.True(t, ok, "rack params -g build shows %s", name)
		assert.EqualValues(t, "build", p.Group, "rack params -g build shows %s", name)
	}
	prefix := convox(t, nil, "rack", "params", "--group", "BU", "-r", r.url)
	assert.Equal(t, convox(t, nil, "rack", "params", "-g", "build", "-r", r.url).stdout, prefix.stdout, "a unique prefix in any case should select the group")
	res = convox(t, nil, "rack", "params", "-g", "nosuchgroup", "-r", r.url)
	assert.EqualValues(t, 1, res.code, "unknown group: exit %d stderr %q", res.code, res.stderr)
	assert.Contains(t, res.stderr, "available groups", "unknown group: exit %d stderr %q", res.code, res.stderr)

	all := convox(t, nil, "rack", "params", "-r", r.url)
	mustContain(t, "rack params", all.stdout, "BuildCacheRetentionDays  30")
	assert.NotContains(t, all.stdout, "hunter2", "secret %s not masked:\n%s", secret, all.stdout)
	assert.Contains(t, all.stdout, "****", "secret %s not masked:\n%s", secret, all.stdout)
	rev := convox(t, nil, "rack", "params", "--reveal", "-r", r.url)
	assert.Contains(t, rev.stdout, "hunter2", "--reveal does not show %s:\n%s", secret, rev.stdout)
}

func TestRackInfoAndErrors(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stderr %q", res.code, res.stderr)
	mustContain(t, "rack", res.stdout, "Name      rack1", "Provider  test", "Status    running")

	bad := strings.Replace(r.url, rackPassword, "wrong", 1)
	res = convox(t, nil, "rack", "-r", bad)
	assert.Equal(t, 1, res.code, "wrong password: stderr %q", res.stderr)
	assert.True(t, strings.HasPrefix(res.stderr, "ERROR: invalid authentication"), "wrong password: stderr %q", res.stderr)
	t.Setenv("RACK_URL", "")
	t.Setenv("CONVOX_RACK", "")
	t.Setenv("CONVOX_HOST", "")
	res = convox(t, nil, "rack")
	assert.Equal(t, 1, res.code, "no rack: stderr %q", res.stderr)
	assert.Contains(t, res.stderr, "ERROR: no rack", "no rack")
	res = convox(t, nil, "rack", "-r", "staging")
	assert.Equal(t, 1, res.code, "unknown rack name: stderr %q", res.stderr)
	assert.Contains(t, res.stderr, `unknown rack "staging"`, "unknown rack name")
	t.Setenv("RACK_URL", r.url)
	res = convox(t, nil, "rack")
	assert.Equal(t, 0, res.code, "RACK_URL: stderr %q", res.stderr)
	t.Setenv("RACK_URL", "")
	t.Setenv("CONVOX_HOST", strings.Replace(r.url, "convox:"+rackPassword+"@", "", 1))
	t.Setenv("CONVOX_PASSWORD", rackPassword)
	res = convox(t, nil, "rack")
	assert.EqualValues(t, 0, res.code, "CONVOX_HOST: exit %d stderr %q", res.code, res.stderr)
}

func TestApps(t *testing.T) {
	r := newRack(t, "app1")
	res := convox(t, nil, "apps", "create", "app2", "-r", r.url)
	require.EqualValues(t, 0, res.code, "apps create: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.EqualValues(t, "Creating app2... OK\n", res.stdout, "apps create: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	res = convox(t, nil, "apps", "create", "Bad_Name", "-r", r.url)
	require.EqualValues(t, 1, res.code, "apps create Bad_Name: exit %d stderr %q", res.code, res.stderr)
	require.Contains(t, res.stderr, "ERROR: invalid app name", "apps create Bad_Name: exit %d stderr %q", res.code, res.stderr)
	res = convox(t, nil, "apps", "-r", r.url)
	want := "APP   STATUS   GEN  RELEASE\napp1  running  2    \napp2  running  2    \n"
	require.EqualValues(t, 0, res.code, "apps: exit %d\n%q\nwant\n%q", res.code, res.stdout, want)
	require.Equal(t, want, res.stdout, "apps: exit %d\n%q\nwant\n%q", res.code, res.stdout, want)
}
