package buildtask_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/buildtask/buildtasktest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var base = map[string]string{"BUILD_APP": "myapp", "BUILD_ID": "B1", "BUILD_URL": "object://myapp/tmp/src.tgz", "BUILD_PUSH": "127.0.0.1:5000/myapp"}

func TestParseEnvAndFlags(t *testing.T) {
	e := map[string]string{"BUILD_CACHE": "Yes", "BUILD_CACHE_REPO": "r/c", "BUILD_CACHE_TTL": "30", "BUILD_GENERATION": "1",
		"BUILD_METHOD": "fargate", "BUILD_DEVELOPMENT": "true", "BUILD_REGISTRY_MIRROR": "127.0.0.1:5000", "RACK_URL": "http://x"}
	for k, v := range base {
		e[k] = v
	}
	s, err := buildtask.Parse([]string{"-cache=false", "-build-args", "A=1", "-build-args", "B=2", "-app", "other"}, env(e))
	require.NoError(t, err)
	assert.Equal(t, buildtask.Spec{App: "other", ID: "B1", URL: "object://myapp/tmp/src.tgz", Push: "127.0.0.1:5000/myapp",
		Generation: 1, Manifest: "docker-compose.yml", Development: true, Method: buildtask.Fargate, Cache: true, CacheRepo: "r/c",
		CacheTTL: "30", RackURL: "http://x", Mirror: "127.0.0.1:5000", NoCache: true, BuildArgs: []string{"A=1", "B=2"}}, s)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{}, "missing required: app, id, push, url"},
		{[]string{"-nope"}, base, "flag provided but not defined: -nope"},
		{[]string{"-cache=maybe"}, base, "cache must be true or false"},
		{[]string{"-generation", "3"}, base, "generation must be 1 or 2"},
		{[]string{"-generation", "two"}, base, "generation must be 1 or 2"},
		{[]string{"-method", "lambda"}, base, "method must be ec2 or fargate"},
		{[]string{"-cache-ttl", "soon"}, base, "cache ttl"},
		{[]string{"-development", "perhaps"}, base, "development must be true or false"},
		{[]string{"extra"}, base, "unexpected argument"},
	} {
		_, err := buildtask.Parse(tc.args, env(tc.env))
		require.Error(t, err, "%q", tc.args)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), "\n")
	}
	_, err := buildtask.Parse([]string{"-h"}, env(base))
	assert.ErrorIs(t, err, buildtask.ErrHelp)
}

func TestEnvironCoversTheContract(t *testing.T) {
	vars := buildtask.Spec{Mirror: "m", RegistryLogin: buildtask.LoginECR, RackPassword: "p"}.Vars()
	for _, k := range strings.Fields("BUILD_APP BUILD_ID BUILD_URL BUILD_PUSH BUILD_AUTH BUILD_GENERATION BUILD_MANIFEST BUILD_DEVELOPMENT BUILD_METHOD BUILD_CACHE BUILD_CACHE_REPO BUILD_CACHE_TTL BUILD_RACK BUILD_REGISTRY_MIRROR BUILD_REGISTRY_LOGIN RACK_URL RACK_PASSWORD") {
		assert.Contains(t, vars, k)
	}
	for _, s := range buildtask.Secrets {
		assert.Contains(t, vars, s, "secret %s is a variable", s)
	}
	environ := buildtask.Spec{App: "a"}.Environ()
	assert.IsNonDecreasing(t, environ)
	assert.Contains(t, environ, "BUILD_APP=a")
	assert.NotContains(t, strings.Join(environ, "\n"), "BUILD_REGISTRY_MIRROR", "no mirror: not sent")
	assert.NotContains(t, strings.Join(environ, "\n"), "RACK_PASSWORD", "no password: not sent (ECS tasks get it as a secret)")
	assert.NotContains(t, strings.Join(environ, "\n"), "BUILD_REGISTRY_LOGIN", "no registry login: not sent")
}

func TestArgs(t *testing.T) {
	assert.Nil(t, buildtask.Spec{}.Args())
	assert.Equal(t, []string{"-build-args", "A=1", "-build-args", "B=x y"}, buildtask.Spec{BuildArgs: []string{"A=1", "B=x y"}}.Args())
	assert.Equal(t, []string{"-cache=false"}, buildtask.Spec{NoCache: true}.Args())
}

func TestFromRack(t *testing.T) {
	for _, c := range buildtasktest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			s := buildtask.Spec{App: "a", ID: "B1", URL: "object://a/k", Push: "r/a"}
			require.NoError(t, s.FromRack(c.Params, "r/cache"))
			s.Generation = c.Want.Generation
			buildtasktest.Check(t, c, s.WithDefaults())
		})
	}
	for _, bad := range []map[string]string{
		{"BuildMethod": "lambda"},
		{"BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "0"},
		{"BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "soon"},
	} {
		var s buildtask.Spec
		err := s.FromRack(bad, "r")
		require.Error(t, err, "%v", bad)
		assert.Regexp(t, "BuildMethod|BuildCacheRetentionDays", err.Error())
	}
}

func TestNormalizeTTL(t *testing.T) {
	for in, want := range map[string]string{"": "", "30": "720h", "1": "24h", "365": "8760h", "720h": "720h0m0s", " 14 ": "336h", buildtask.NoExpiry: "87600h0m0s"} {
		got, err := buildtask.NormalizeTTL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, "NormalizeTTL(%q)", in)
	}
	for _, bad := range []string{"0", "-3", "abc", "-5h"} {
		_, err := buildtask.NormalizeTTL(bad)
		assert.Error(t, err, "NormalizeTTL(%q)", bad)
	}
}

func TestUsageNamesEveryVariable(t *testing.T) {
	var buf bytes.Buffer
	buildtask.Usage(&buf)
	for _, k := range []string{"BUILD_APP", "BUILD_CACHE_REPO", "BUILD_REGISTRY_MIRROR", "-cache"} {
		assert.Contains(t, buf.String(), k)
	}
}

// An ECS task's contract: no password in RACK_URL, RACK_PASSWORD from the task's secrets, the ECR login its own.
func TestPasswordAndRegistryLoginOutOfBand(t *testing.T) {
	e := map[string]string{"RACK_URL": "https://rack.example", "RACK_PASSWORD": "pw", "BUILD_REGISTRY_LOGIN": "ecr"}
	for k, v := range base {
		e[k] = v
	}
	s, err := buildtask.Parse(nil, env(e))
	require.NoError(t, err)
	assert.Equal(t, "https://rack.example", s.RackURL)
	assert.Equal(t, "pw", s.RackPassword)
	assert.Equal(t, buildtask.LoginECR, s.RegistryLogin)
	e["BUILD_REGISTRY_LOGIN"] = "gcr"
	_, err = buildtask.Parse(nil, env(e))
	assert.ErrorContains(t, err, "registry login")
	_, err = buildtask.Parse([]string{"-rack-password", "x"}, env(base))
	assert.ErrorContains(t, err, "not defined", "the password is never a flag")
}

// docs/ARCHITECTURE.md's contract table names every variable of the contract, and no other.
func TestArchitectureDocListsTheContract(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(doc), "## The build-task contract")
	require.True(t, ok, "no contract section")
	table, _, _ = strings.Cut(table, "\nEvery variable is also a flag")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?").FindAllStringSubmatch(table, -1) {
		for _, name := range m[1:] {
			if name != "" {
				listed[name] = true
			}
		}
	}
	vars := buildtask.Spec{Mirror: "m", RegistryLogin: buildtask.LoginECR, RackPassword: "p"}.Vars()
	for k := range vars {
		assert.True(t, listed[k], "%s is not in the contract table", k)
	}
	for k := range listed {
		_, ok := vars[k]
		assert.True(t, ok, "the contract table lists %s, which no Spec sends", k)
	}
}

func TestWithoutSecrets(t *testing.T) {
	s := buildtask.Spec{App: "a", Auth: `{"h":{}}`, RackURL: "https://convox:pw@rack.example/x", RackPassword: "pw", CacheRepo: "r"}
	got := s.WithoutSecrets()
	assert.Equal(t, buildtask.Spec{App: "a", RackURL: "https://rack.example/x", CacheRepo: "r"}, got)
	assert.Equal(t, "", buildtask.Spec{RackURL: "://bad"}.WithoutSecrets().RackURL, "an unparsable URL is dropped, not sent")
}
