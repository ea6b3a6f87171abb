package aws_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/formation"
)

// withoutOutputs is rack.json with no Outputs: CloudFormation publishes a
// stack's outputs only once it is complete, while the API task starts during
// the create (moto publishes them at once, so the test takes them away).
func withoutOutputs(t *testing.T) []byte {
	t.Helper()
	var tmpl map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(formation.Template(), &tmpl))
	delete(tmpl, "Outputs")
	body, err := json.Marshal(tmpl)
	require.NoError(t, err)
	return body
}

// status is the HTTP status and body of GET url.
func status(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := insecureClient.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// waitBuild waits for a build to end through the API.
func waitBuild(t *testing.T, p *apiProcess, app, id string) *structs.Build {
	t.Helper()
	c := p.client(t, "rack-secret")
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := c.BuildGet(app, id)
		require.NoError(t, err)
		if b.Terminal() {
			return b
		}
		require.True(t, time.Now().Before(deadline), "build %s still %s", id, b.Status)
		time.Sleep(100 * time.Millisecond)
	}
}

// cmd/rack starts from the environment its task definition in rack.json gives
// it, against a stack that has published no outputs: it answers /check
// without a password and serves a build.
func TestRackAPIStartsFromItsTaskDefinition(t *testing.T) {
	r := newRackFrom(t, withoutOutputs(t), map[string]string{"BuildMethod": "fargate"})
	require.Empty(t, r.outputs(), "the stack has outputs")
	api := r.startAPI()
	for _, name := range []string{"RACK_BUILDS_TABLE", "RACK_BUILD_CLUSTER", "RACK_OBJECT_BUCKET", "RACK_BUILD_TASK_DEFINITION_FARGATE"} {
		assert.NotEmpty(t, api.Env[name], "the task definition sets no %s", name)
	}

	code, body := status(t, api.URL+"/check")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	code, _ = status(t, api.URL+"/system")
	assert.Equal(t, http.StatusUnauthorized, code, "only /check answers without the password")

	c := api.client(t, "rack-secret")
	_, err := c.AppCreate("web", structs.AppCreateOptions{})
	require.NoError(t, err)
	r.playTasks(c, func(buildtask.Spec) string { return "" })
	obj, err := c.ObjectStore("web", "tmp/src.tgz", strings.NewReader("source"), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	b, err := c.BuildCreate("web", obj.Url, structs.BuildCreateOptions{})
	require.NoError(t, err)
	assert.Equal(t, structs.BuildStatusRunning, b.Status, "a build runs from the moment its task is launched")
	assert.NotEmpty(t, b.Process)
	done := waitBuild(t, api, "web", b.Id)
	assert.Equal(t, structs.BuildStatusComplete, done.Status, done.Reason)
	assert.NotEmpty(t, done.Release)
}

// appSource is a small app for `convox build`.
func appSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "convox.yml"), []byte("services:\n  web:\n    build: .\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY . /app\n"), 0o644))
	return dir
}

// The unmodified upstream convox CLI drives the aws provider: cmd/rack from
// its task definition, in moto, behind a TLS front as a load balancer would
// be, with the build tasks played (moto never runs them).
func TestUpstreamCLIOnAWS(t *testing.T) {
	cli := testenv.NewUpstream(t)
	r := newRack(t, map[string]string{"BuildMethod": "fargate"})
	// moto's CloudFormation does not make the password secret: do what it would.
	secrets := secretsmanager.NewFromConfig(r.cfg)
	_, err := secrets.CreateSecret(r.ctx, &secretsmanager.CreateSecretInput{Name: sdkaws.String(rackName + "/password"), SecretString: sdkaws.String("rack-secret")})
	require.NoError(t, err)
	api := r.startAPI()
	require.Equal(t, rackName+"/password", api.Env["RACK_PASSWORD_SECRET"])
	front := testenv.TLSFront(t, api.URL)
	cli.Env = []string{"RACK_URL=https://convox:rack-secret@" + front}
	c := api.client(t, "rack-secret")
	for _, app := range []string{"web", "dies"} {
		_, err := c.AppCreate(app, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	r.playTasks(c, func(s buildtask.Spec) string {
		if s.App == "dies" {
			return "OutOfMemoryError: Container killed due to memory usage"
		}
		return ""
	})
	src := appSource(t)
	run := func(limit time.Duration, args ...string) testenv.Result {
		t.Helper()
		res := cli.Run(t, src, limit, args...)
		t.Logf("convox %v: exit %d after %s\n%s%s", args, res.Code, res.Took.Round(time.Millisecond), res.Stdout, res.Stderr)
		return res
	}
	releaseOf := regexp.MustCompile(`(?m)^Release: (R[A-Z]+)\s*$`)

	res := run(2*time.Minute, "build", "-a", "web")
	require.Equal(t, 0, res.Code, "convox build")
	assert.Contains(t, res.Stdout, "Service web: 2 steps")
	m := releaseOf.FindStringSubmatch(res.Stdout)
	require.Len(t, m, 2, "convox build printed no release")
	release := m[1]
	buildOf := regexp.MustCompile(`(?m)^Build: +(B[A-Z]+)\s*$`)
	mb := buildOf.FindStringSubmatch(res.Stdout)
	require.Len(t, mb, 2, "convox build printed no build")
	build := mb[1]

	res = run(2*time.Minute, "deploy", "-a", "web")
	require.Equal(t, 0, res.Code, "convox deploy")
	assert.Contains(t, res.Stdout, "Promoting")

	res = run(time.Minute, "builds", "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds")
	assert.Contains(t, res.Stdout, build)
	res = run(time.Minute, "builds", "info", build, "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds info")
	assert.Contains(t, res.Stdout, release)
	res = run(time.Minute, "builds", "logs", build, "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds logs")
	assert.Contains(t, res.Stdout, "Service web: 2 steps")
	res = run(time.Minute, "releases", "-a", "web")
	require.Equal(t, 0, res.Code, "convox releases")
	assert.Contains(t, res.Stdout, release)
	res = run(time.Minute, "releases", "promote", release, "-a", "web")
	require.Equal(t, 0, res.Code, "convox releases promote")
	a, err := c.AppGet("web")
	require.NoError(t, err)
	assert.Equal(t, release, a.Release)

	res = run(time.Minute, "rack", "params", "set", "BuildCache=Yes")
	require.Equal(t, 0, res.Code, "convox rack params set")
	s, err := c.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "Yes", s.Parameters["BuildCache"])

	// A task that dies: the build fails with ECS's reason, and convox build exits 1 saying it.
	res = run(2*time.Minute, "build", "-a", "dies")
	assert.Equal(t, 1, res.Code, "convox build of a dead task")
	assert.Contains(t, res.Stdout+res.Stderr, "OutOfMemoryError: Container killed due to memory usage")

	// convox login HOST: https, the password checked through /auth.
	fresh := testenv.NewUpstream(t)
	res = fresh.Run(t, "", time.Minute, "login", front, "-p", "wrong")
	assert.Equal(t, 1, res.Code, "login with a wrong password: %s%s", res.Stdout, res.Stderr)
	res = fresh.Run(t, "", time.Minute, "login", front, "-p", "rack-secret")
	require.Equal(t, 0, res.Code, "convox login: %s%s", res.Stdout, res.Stderr)
	res = fresh.Run(t, "", time.Minute, "builds", "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds after login: %s%s", res.Stdout, res.Stderr)
	assert.Contains(t, res.Stdout, build)

	// A password change takes effect within a minute, without a restart.
	res = run(time.Minute, "rack", "params", "set", "Password=rack-secret-2")
	require.Equal(t, 0, res.Code, "convox rack params set Password")
	_, err = secrets.PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: sdkaws.String(rackName + "/password"), SecretString: sdkaws.String("rack-secret-2")})
	require.NoError(t, err, "the stack update sets the secret")
	changed := time.Now()
	for {
		if _, err := api.client(t, "rack-secret-2").SystemGet(); err == nil {
			break
		}
		require.Less(t, time.Since(changed), time.Minute, "the new password does not work a minute after the change")
		time.Sleep(time.Second)
	}
	t.Logf("the new password worked %s after the change", time.Since(changed).Round(time.Second))
	_, err = api.client(t, "rack-secret").SystemGet()
	assert.Error(t, err, "the old password still works")
}
