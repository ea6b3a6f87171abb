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
	if len(stores) != 1 {
		t.Fatalf("%d uploads, want 1", len(stores))
	}
	data, ok := r.p.Object(app, stores[0].Args[1].(string))
	if !ok {
		t.Fatal("uploaded source not stored")
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
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
	if res.code != 0 {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	calls := r.p.Calls("BuildCreate")
	if len(calls) != 1 {
		t.Fatalf("BuildCreate called %d times", len(calls))
	}
	if u := calls[0].Args[1].(string); !strings.HasPrefix(u, "object://app1/tmp/") || !strings.HasSuffix(u, ".tgz") {
		t.Errorf("build url %q", u)
	}
	opts := calls[0].Args[2].(structs.BuildCreateOptions)
	on := func(b *bool) bool { return b != nil && *b }
	if !on(opts.NoCache) || !on(opts.Development) || !on(opts.WildcardDomain) {
		t.Errorf("no-cache %v development %v wildcard-domain %v", opts.NoCache, opts.Development, opts.WildcardDomain)
	}
	if !reflect.DeepEqual(opts.BuildArgs, []string{"A=1", "B=two words"}) {
		t.Errorf("build args %q", opts.BuildArgs)
	}
	if opts.Manifest == nil || *opts.Manifest != "convox.staging.yml" || opts.Description == nil || *opts.Description != "my description" {
		t.Errorf("manifest %v description %v", opts.Manifest, opts.Description)
	}

	want := []string{".dockerignore", "Dockerfile", "convox.yml", "keep.log", "src/main.go"}
	if got := uploadedFiles(t, r, "app1"); !reflect.DeepEqual(got, want) {
		t.Errorf("uploaded %v, want %v", got, want)
	}

	if len(r.p.Calls("BuildGet")) == 0 {
		t.Fatal("the CLI never checked the build status")
	}
	if logs := r.p.Calls("BuildLogs"); len(logs) != 1 || !on(logs[0].Args[2].(structs.LogsOptions).Follow) {
		t.Errorf("build logs should be followed live: %+v", logs)
	}
	mustContain(t, "stdout", res.stdout,
		"Packaging source... OK\n", "Uploading source... OK\n", "Starting build... OK\n",
		"Building app app1\nBuild complete\n", "Build:   B", "Release: R")
	if !regexp.MustCompile(`Build:   B[A-Z]{10}\nRelease: R[A-Z]{10}\n$`).MatchString(res.stdout) {
		t.Errorf("stdout does not end with the build and release ids:\n%s", res.stdout)
	}
}

// TestBuildDefaultsOff: without flags no option is forced on the rack.
func TestBuildDefaultsOff(t *testing.T) {
	r := newRack(t, "app1")
	dir := sourceDir(t, map[string]string{"convox.yml": "services: {}\n"})
	if res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url); res.code != 0 {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	opts := r.p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	if opts.NoCache != nil || opts.Development != nil || opts.WildcardDomain != nil || opts.Manifest != nil || len(opts.BuildArgs) != 0 {
		t.Fatalf("unexpected options %+v", opts)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestBuildGitDescription: a clean tree gives "build <short sha> <subject>"
// and the sha; local changes give neither.
func TestBuildGitDescription(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed by convox build and by this test")
	}
	r := newRack(t, "app1")
	dir := sourceDir(t, map[string]string{"convox.yml": "services: {}\n", "Dockerfile": "FROM scratch\n"})
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "this is my commit message")
	sha := git(t, dir, "rev-parse", "HEAD")

	if res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url); res.code != 0 {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	opts := r.p.Calls("BuildCreate")[0].Args[2].(structs.BuildCreateOptions)
	if want := "build " + sha[:10] + " this is my commit message"; opts.Description == nil || *opts.Description != want {
		t.Errorf("description %v, want %q", opts.Description, want)
	}
	if opts.GitSha == nil || *opts.GitSha != sha {
		t.Errorf("git-sha %v, want %s", opts.GitSha, sha)
	}

	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url); res.code != 0 {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	opts = r.p.Calls("BuildCreate")[1].Args[2].(structs.BuildCreateOptions)
	if opts.Description != nil || opts.GitSha != nil {
		t.Errorf("dirty tree: description %v git-sha %v, want none", opts.Description, opts.GitSha)
	}
}

func TestBuildFailureExitsNonZero(t *testing.T) {
	r := newRack(t, "app1")
	r.p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Logs: []string{"Step 1/3 : FROM nowhere\n"}, Status: structs.BuildStatusFailed, Reason: "pull access denied for nowhere"}
	}
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", r.url)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	mustContain(t, "stdout", res.stdout, "Step 1/3 : FROM nowhere\n")
	if res.stderr != "ERROR: build failed: pull access denied for nowhere\n" {
		t.Fatalf("stderr %q", res.stderr)
	}
}

func TestBuildRejectsBadBuildArg(t *testing.T) {
	r := newRack(t, "app1")
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", r.url, "--build-args", "NOVALUE")
	if res.code != 1 || !strings.Contains(res.stderr, "KEY=VALUE") {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	if n := len(r.p.Calls("BuildCreate")); n != 0 {
		t.Fatalf("BuildCreate called %d times", n)
	}
}

func TestBuildIDAndDeploy(t *testing.T) {
	r := newRack(t, "app1")
	dir := sourceDir(t, app1Source)
	res := convox(t, nil, "build", dir, "-a", "app1", "-r", r.url, "--id")
	if res.code != 0 || !regexp.MustCompile(`^R[A-Z]{10}$`).MatchString(res.stdout) {
		t.Fatalf("build --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "Starting build... OK")

	res = convox(t, nil, "deploy", dir, "-a", "app1", "-r", r.url, "--no-cache", "--wait")
	if res.code != 0 {
		t.Fatalf("deploy: exit %d stderr %q", res.code, res.stderr)
	}
	a, _ := r.p.AppGet("app1")
	if a.Release == "" || !strings.HasSuffix(res.stdout, "Promoting "+a.Release+"... OK\n") {
		t.Fatalf("deploy did not promote: release %q stdout %q", a.Release, res.stdout)
	}
	if opts := r.p.Calls("BuildCreate")[1].Args[2].(structs.BuildCreateOptions); opts.NoCache == nil || !*opts.NoCache {
		t.Fatal("deploy --no-cache did not reach BuildCreate")
	}
}

func TestBuildHelpSaysWildcardDomainIsOnlyStored(t *testing.T) {
	for _, cmd := range []string{"build", "deploy"} {
		res := convox(t, nil, cmd, "--help")
		mustContain(t, "convox "+cmd+" --help", res.stdout, "--wildcard-domain is stored on the build only", "no load balancer for apps", "no listener rule or certificate")
	}
}
