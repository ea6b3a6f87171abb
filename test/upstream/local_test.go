// Package upstream drives racks with the unmodified upstream convox CLI, the
// client users of Convox racks already have (the AWS provider's own test is in
// provider/aws, where moto runs).
package upstream

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"
)

// The upstream CLI drives the local provider through the commands of a
// build's life, behind a TLS front (convox login always speaks https).
func TestUpstreamCLIOnLocal(t *testing.T) {
	cli := testenv.NewUpstream(t)
	r := rackenv.Start(t, rackenv.Options{})
	front := testenv.TLSFront(t, r.URL)
	cli.Env = []string{"RACK_URL=https://convox:" + r.Password + "@" + front}
	for _, app := range []string{"web", "broken"} {
		_, err := r.Client.AppCreate(app, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	src := rackenv.SmallApp(t, "upstream-local")
	run := func(dir string, limit time.Duration, args ...string) testenv.Result {
		t.Helper()
		res := cli.Run(t, dir, limit, args...)
		t.Logf("convox %v: exit %d after %s\n%s%s", args, res.Code, res.Took.Round(time.Millisecond), res.Stdout, res.Stderr)
		return res
	}

	res := run(src, 5*time.Minute, "build", "-a", "web")
	require.Equal(t, 0, res.Code, "convox build")
	assert.Regexp(t, `Service web: \d+ steps`, res.Stdout)
	m := regexp.MustCompile(`(?m)^Release: (R[A-Z]+)\s*$`).FindStringSubmatch(res.Stdout)
	require.Len(t, m, 2, "convox build printed no release")
	release := m[1]
	mb := regexp.MustCompile(`(?m)^Build: +(B[A-Z]+)\s*$`).FindStringSubmatch(res.Stdout)
	require.Len(t, mb, 2, "convox build printed no build")
	build := mb[1]

	res = run(src, 5*time.Minute, "deploy", "-a", "web")
	require.Equal(t, 0, res.Code, "convox deploy")
	assert.Contains(t, res.Stdout, "Promoting")
	res = run("", time.Minute, "builds", "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds")
	assert.Contains(t, res.Stdout, build)
	res = run("", time.Minute, "builds", "info", build, "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds info")
	assert.Contains(t, res.Stdout, release)
	res = run("", time.Minute, "builds", "logs", build, "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds logs")
	assert.Regexp(t, `Service web: \d+ steps`, res.Stdout)
	res = run("", time.Minute, "releases", "-a", "web")
	require.Equal(t, 0, res.Code, "convox releases")
	assert.Contains(t, res.Stdout, release)
	res = run("", time.Minute, "releases", "promote", release, "-a", "web")
	require.Equal(t, 0, res.Code, "convox releases promote")
	a, err := r.Client.AppGet("web")
	require.NoError(t, err)
	assert.Equal(t, release, a.Release)

	res = run("", 2*time.Minute, "rack", "params", "set", "BuildCache=Yes")
	require.Equal(t, 0, res.Code, "convox rack params set")
	s, err := r.Client.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "Yes", s.Parameters["BuildCache"])

	// A build that fails: convox build exits 1 and shows why.
	broken := rackenv.App(t, map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n",
		"Dockerfile": "FROM busybox:latest\nRUN echo the-step-that-fails && exit 3\n",
	})
	res = run(broken, 5*time.Minute, "build", "-a", "broken")
	assert.Equal(t, 1, res.Code, "convox build of a failing build")
	assert.Contains(t, res.Stdout+res.Stderr, "the-step-that-fails")

	// convox login HOST, then a command on the login alone.
	fresh := testenv.NewUpstream(t)
	res = fresh.Run(t, "", time.Minute, "login", front, "-p", "wrong")
	assert.Equal(t, 1, res.Code, "login with a wrong password: %s%s", res.Stdout, res.Stderr)
	res = fresh.Run(t, "", time.Minute, "login", front, "-p", r.Password)
	require.Equal(t, 0, res.Code, "convox login: %s%s", res.Stdout, res.Stderr)
	res = fresh.Run(t, "", time.Minute, "builds", "-a", "web")
	require.Equal(t, 0, res.Code, "convox builds after login: %s%s", res.Stdout, res.Stderr)
	assert.Contains(t, res.Stdout, build)
}
