package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var app1Source = map[string]string{
	"convox.yml":              "services:\n  web:\n    build: .\n",
	"Dockerfile":              "FROM debian:bookworm-slim\nARG A\nCOPY . /app\n",
	"src/main.go":             "package main\n",
	".dockerignore":           "secret.txt\nnode_modules\n*.log\n!keep.log\n",
	"secret.txt":              "do not upload",
	"node_modules/x/index.js": "module.exports = 1",
	"debug.log":               "noise",
	"keep.log":                "kept by an exception",
}

// uploadedFiles lists the files of the source tarball the rack received.
func uploadedFiles(t *testing.T, r *testRack, app string) []string {
	t.Helper()
	stores := r.p.Calls("ObjectStore")
	require.Len(t, stores, 1, "%d uploads, want 1", len(stores))
	data, ok := r.p.Object(app, stores[0].Args[1].(string))
	require.True(t, ok, "uploaded source not stored")
	gz, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if h.Typeflag == tar.TypeReg {
			names = append(names, h.Name)
		}
	}
	sort.Strings(names)
	return names
}

// TestBuildFlagsReachBuildCreate: every build flag arrives in BuildCreate,
// the source honours .dockerignore, logs stream and the ids are printed.
func TestBuildFlagsReachBuildCreate(t *testing.T) {
	r := newRack(t, "app1")
	dir := sourceDir(t, app1Source)
	res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url,
		"--no-cache", "--build-args", "A=1", "--build-args", "B=two words",
		"--development", "-m", "convox.staging.yml", "-d", "my description", "--wildcard-domain")
	require.EqualValues(t, 0, res.code, "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	calls := r.p.Calls("BuildCreate")
	require.Len(t, calls, 1, "BuildCreate called %d times", len(calls))
	u := calls[0].Args[1].(string)
	assert.True(t, strings.HasPrefix(u, "object://app1/tmp/"), "build url %q", u)
	assert.True(t, strings.HasSuffix(u, ".tgz"), "build url %q", u)
	opts := calls[0].Args[2].(structs.BuildCreateOptions)
	on := func(b *bool) bool { return b != nil && *b }
	assert.True(t, on(opts.NoCache), "no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	assert.True(t, on(opts.Development), "no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	assert.True(t, on(opts.WildcardDomain), "no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	assert.True(t, reflect.DeepEqual(opts.BuildArgs, []string{"A=1", "B=two words"}), "build args %q", opts.BuildArgs)
	if assert.NotNil(t, opts.Manifest, "manifest %v description %v", opts.Manifest, opts.Description) {
		assert.EqualValues(t, "convox.staging.yml", *opts.Manifest, "manifest %v description %v", opts.Manifest, opts.Description)
		if assert.NotNil(t, opts.Description, "manifest %v description %v", opts.Manifest, opts.Description) {
			assert.EqualValues(t, "my description", *opts.Description, "manifest %v description %v", opts.Manifest, opts.Description)
		}
	}

	want := []string{".dockerignore", "Dockerfile", "convox.yml", "keep.log", "src/main.go"}
	got := uploadedFiles(t, r, "app1")
	assert.True(t, reflect.DeepEqual(got, want), "uploaded %v, want %v", got, want)

	require.NotEmpty(t, r.p.Calls("BuildGet"), "the CLI never checked the build status")
	logs := r.p.Calls("BuildLogs")
	if assert.Len(t, logs, 1, "build logs should be followed live: %+v", logs) {
		assert.True(t, on(logs[0].Args[2].(structs.LogsOptions).Follow), "build logs should be followed live: %+v", logs)
	}
	mustContain(t, "stdout", res.stdout,
		"Packaging source... OK\n", "Uploading source... OK\n", "Starting build... OK\n",
		"Building app app1\nBuild complete\n", "Build:   B", "Release: R")
	assert.True(t, regexp.MustCompile(`Build:   B[A-Z]{10}\nRelease: R[A-Z]{10}\n$`).MatchString(res.stdout), "stdout does not end with the build and release ids:\n%s", res.stdout)
}

// TestBuildDefaultsOff: without flags no option is forced on the rack.
func TestBuildDefaultsOff(t *testing.T) {
	r := newRack(t, "app1")
	dir := sourceDir(t, map[string]string{"convox.yml": "services: {}\n"})
	res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stderr %q", res.code, res.stderr)
	opts := r.p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	require.Nil(t, opts.NoCache, "unexpected options %+v", opts)
	require.Nil(t, opts.Development, "unexpected options %+v", opts)
	require.Nil(t, opts.WildcardDomain, "unexpected options %+v", opts)
	require.Nil(t, opts.Manifest, "unexpected options %+v", opts)
	require.Empty(t, opts.BuildArgs, "unexpected options %+v", opts)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %v\n%s", args, err, out)
	return strings.TrimSpace(string(out))
}

// TestBuildGitDescription: a clean tree gives "build <short sha> <subject>"
// and the sha; local changes give neither.
func TestBuildGitDescription(t *testing.T) {
	_, err := exec.LookPath("git")
	require.NoError(t, err, "git is needed by convox build and by this test")
	r := newRack(t, "app1")
	dir := sourceDir(t, map[string]string{"convox.yml": "services: {}\n", "Dockerfile": "FROM scratch\n"})
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "this is my commit message")
	sha := git(t, dir, "rev-parse", "HEAD")

	res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stderr %q", res.code, res.stderr)
	opts := r.p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	if assert.NotNil(t, opts.Description) {
		assert.Equal(t, "build "+sha[:10]+" this is my commit message", *opts.Description, "description")
	}
	if assert.NotNil(t, opts.GitSha, "git-sha %v, want %s", opts.GitSha, sha) {
		assert.Equal(t, sha, *opts.GitSha, "git-sha %v, want %s", opts.GitSha, sha)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\n"), 0o644))
	res = convox(t, nil, "build", dir, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "exit %d stderr %q", res.code, res.stderr)
	opts = r.p.Calls("BuildCreate")[1].Args[2].(structs.BuildCreateOptions)
	assert.Nil(t, opts.Description, "dirty tree: description %v git-sha %v, want none", opts.Description, opts.GitSha)
	assert.Nil(t, opts.GitSha, "dirty tree: description %v git-sha %v, want none", opts.Description, opts.GitSha)
}

func TestBuildFailureExitsNonZero(t *testing.T) {
	r := newRack(t, "app1")
	r.p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"Step 1/3 : FROM nowhere\n"}, Status: structs.BuildStatusFailed, Reason: "pull access denied for nowhere"}
	}
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", r.url)
	require.EqualValues(t, 1, res.code, "exit %d, want 1", res.code)
	mustContain(t, "stdout", res.stdout, "Step 1/3 : FROM nowhere\n")
	require.EqualValues(t, "ERROR: build failed: pull access denied for nowhere\n", res.stderr, "stderr %q", res.stderr)
}

func TestBuildRejectsBadBuildArg(t *testing.T) {
	r := newRack(t, "app1")
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", r.url, "--build-args", "NOVALUE")
	require.EqualValues(t, 1, res.code, "exit %d stderr %q", res.code, res.stderr)
	require.Contains(t, res.stderr, "KEY=VALUE", "exit %d stderr %q", res.code, res.stderr)
	n := len(r.p.Calls("BuildCreate"))
	require.EqualValues(t, 0, n, "BuildCreate called %d times", n)
}

func TestBuildIDAndDeploy(t *testing.T) {
	r := newRack(t, "app1")
	dir := sourceDir(t, app1Source)
	res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url, "--id")
	require.EqualValues(t, 0, res.code, "build --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.True(t, regexp.MustCompile(`^R[A-Z]{10}$`).MatchString(res.stdout), "build --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	mustContain(t, "stderr", res.stderr, "Starting build... OK")

	res = convox(t, nil, "deploy", dir, "-a", "app1", "-r", r.url, "--no-cache", "--wait")
	require.EqualValues(t, 0, res.code, "deploy: exit %d stderr %q", res.code, res.stderr)
	a, _ := r.p.AppGet("app1")
	require.NotEmpty(t, a.Release, "deploy did not promote: release %q stdout %q", a.Release, res.stdout)
	require.True(t, strings.HasSuffix(res.stdout, "Promoting "+a.Release+"... OK\n"), "deploy did not promote: release %q stdout %q", a.Release, res.stdout)
	opts := r.p.Calls("BuildCreate")[1].Args[2].(structs.BuildCreateOptions)
	require.NotNil(t, opts.NoCache, "deploy --no-cache did not reach BuildCreate")
	require.True(t, *opts.NoCache, "deploy --no-cache did not reach BuildCreate")
}

func TestBuildHelpSaysWildcardDomainIsOnlyStored(t *testing.T) {
	for _, cmd := range []string{"build", "deploy"} {
		res := convox(t, nil, cmd, "--help")
		mustContain(t, "convox "+cmd+" --help", res.stdout, "--wildcard-domain is stored on the build only", "no load balancer for apps", "no listener rule or certificate")
	}
}
