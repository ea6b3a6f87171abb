package cli_test

import (
	"strings"
	"testing"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
)

// TestRackParamsSetRejectsBeforeRequest: a value out of range fails on the
// client, naming the allowed range, and the rack never sees a request.
func TestRackParamsSetRejectsBeforeRequest(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "params", "set", "BuildCacheRetentionDays=0", "-r", r.url)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "ERROR: ", "BuildCacheRetentionDays", "1", "365")
	if n := r.requests.Load(); n != 0 {
		t.Fatalf("the rack got %d requests for an invalid parameter", n)
	}
	for _, bad := range []string{"NoSuchParam=1", "BuildCache=maybe", "novalue"} {
		if res := convox(t, nil, "rack", "params", "set", bad, "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: ") {
			t.Errorf("%s: exit %d stderr %q", bad, res.code, res.stderr)
		}
	}
	if n := r.requests.Load(); n != 0 {
		t.Fatalf("the rack got %d requests for invalid parameters", n)
	}
}

func TestRackParamsSetReachesSystemUpdate(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "params", "set", "BuildCache=Yes", "BuildCacheRetentionDays=14", "-r", r.url)
	if res.code != 0 || res.stdout != "Updating parameters... OK\n" {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	calls := r.p.Calls("SystemUpdate")
	if len(calls) != 1 {
		t.Fatalf("SystemUpdate called %d times", len(calls))
	}
	got := calls[0].Args[0].(structs.SystemUpdateOptions).Parameters
	if got["BuildCache"] != "Yes" || got["BuildCacheRetentionDays"] != "14" || len(got) != 2 {
		t.Fatalf("SystemUpdate got %v", got)
	}
}

func TestRackParamsSetWait(t *testing.T) {
	r := newRack(t)
	r.p.UpdatingPolls = 3
	res := convox(t, nil, "rack", "params", "set", "BuildCacheCleanup=Yes", "--wait", "-r", r.url)
	if res.code != 0 || !strings.HasSuffix(res.stdout, "OK\n") {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if n := len(r.p.Calls("SystemGet")); n != 4 {
		t.Fatalf("--wait polled SystemGet %d times, want 4 (3 updating, then running)", n)
	}
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
	if secret != "" {
		if err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{secret: "hunter2"}}); err != nil {
			t.Fatal(err)
		}
	}

	res := convox(t, nil, "rack", "params", "-g", "build", "-r", r.url)
	if res.code != 0 {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	mustContain(t, "rack params -g build", res.stdout, "BuildCache ", "BuildCacheCleanup ", "BuildCacheRetentionDays ")
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		name := strings.Fields(line)[0]
		if p, ok := params.Lookup(name); !ok || p.Group != "build" {
			t.Errorf("rack params -g build shows %s", name)
		}
	}
	if res := convox(t, nil, "rack", "params", "--group", "BU", "-r", r.url); res.stdout != convox(t, nil, "rack", "params", "-g", "build", "-r", r.url).stdout {
		t.Errorf("a unique prefix in any case should select the group: %q", res.stdout)
	}
	if res := convox(t, nil, "rack", "params", "-g", "nosuchgroup", "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "available groups") {
		t.Errorf("unknown group: exit %d stderr %q", res.code, res.stderr)
	}

	all := convox(t, nil, "rack", "params", "-r", r.url)
	mustContain(t, "rack params", all.stdout, "BuildCacheRetentionDays  30")
	if secret == "" {
		t.Log("the catalogue has no secret parameter: masking not exercised")
		return
	}
	if strings.Contains(all.stdout, "hunter2") || !strings.Contains(all.stdout, "****") {
		t.Errorf("secret %s not masked:\n%s", secret, all.stdout)
	}
	if rev := convox(t, nil, "rack", "params", "--reveal", "-r", r.url); !strings.Contains(rev.stdout, "hunter2") {
		t.Errorf("--reveal does not show %s:\n%s", secret, rev.stdout)
	}
}

func TestRackInfoAndErrors(t *testing.T) {
	r := newRack(t)
	res := convox(t, nil, "rack", "-r", r.url)
	if res.code != 0 {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	mustContain(t, "rack", res.stdout, "Name      rack1", "Provider  test", "Status    running")

	bad := strings.Replace(r.url, rackPassword, "wrong", 1)
	if res := convox(t, nil, "rack", "-r", bad); res.code != 1 || !strings.HasPrefix(res.stderr, "ERROR: invalid authentication") {
		t.Errorf("wrong password: exit %d stderr %q", res.code, res.stderr)
	}
	t.Setenv("RACK_URL", "")
	t.Setenv("CONVOX_RACK", "")
	t.Setenv("CONVOX_HOST", "")
	if res := convox(t, nil, "rack"); res.code != 1 || !strings.Contains(res.stderr, "ERROR: no rack") {
		t.Errorf("no rack: exit %d stderr %q", res.code, res.stderr)
	}
	if res := convox(t, nil, "rack", "-r", "staging"); res.code != 1 || !strings.Contains(res.stderr, `unknown rack "staging"`) {
		t.Errorf("unknown rack name: exit %d stderr %q", res.code, res.stderr)
	}
	t.Setenv("RACK_URL", r.url)
	if res := convox(t, nil, "rack"); res.code != 0 {
		t.Errorf("RACK_URL: exit %d stderr %q", res.code, res.stderr)
	}
	t.Setenv("RACK_URL", "")
	t.Setenv("CONVOX_HOST", strings.Replace(r.url, "convox:"+rackPassword+"@", "", 1))
	t.Setenv("CONVOX_PASSWORD", rackPassword)
	if res := convox(t, nil, "rack"); res.code != 0 {
		t.Errorf("CONVOX_HOST: exit %d stderr %q", res.code, res.stderr)
	}
}

func TestApps(t *testing.T) {
	r := newRack(t, "app1")
	if res := convox(t, nil, "apps", "create", "app2", "-r", r.url); res.code != 0 || res.stdout != "Creating app2... OK\n" {
		t.Fatalf("apps create: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := convox(t, nil, "apps", "create", "Bad_Name", "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: invalid app name") {
		t.Fatalf("apps create Bad_Name: exit %d stderr %q", res.code, res.stderr)
	}
	res := convox(t, nil, "apps", "-r", r.url)
	want := "APP   STATUS   GEN  RELEASE\napp1  running  2    \napp2  running  2    \n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("apps: exit %d\n%q\nwant\n%q", res.code, res.stdout, want)
	}
}
