package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain doubles as a stand-in for cmd/build when the local rack starts
// this test binary as its build task (see fakeBuildTask).
func TestMain(m *testing.M) {
	if os.Getenv("CONVOX_FAKE_BUILD_TASK") == "1" {
		if err := fakeBuildTask(); err != nil {
			fmt.Fprintf(os.Stderr, "ERROR: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// taskRecord is what the fake build task saw.
type taskRecord struct {
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env"`
	SourceBytes int               `json:"source-bytes"`
}

// fakeBuildTask plays cmd/build's part of the contract through the SDK: it
// reads its BUILD_* environment and arguments, fetches the source object,
// creates a release and reports the build complete to RACK_URL.
func fakeBuildTask() error {
	rec := taskRecord{Args: os.Args[1:], Env: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "BUILD_") || k == "RACK_URL") {
			rec.Env[k] = v
		}
	}
	rack, err := sdk.NewFromEnv()
	if err != nil {
		return err
	}
	app, id := rec.Env["BUILD_APP"], rec.Env["BUILD_ID"]
	_, key, ok := strings.Cut(strings.TrimPrefix(rec.Env["BUILD_URL"], "object://"), "/")
	if !ok {
		return fmt.Errorf("BUILD_URL %q", rec.Env["BUILD_URL"])
	}
	src, err := rack.ObjectFetch(app, key)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(src)
	src.Close()
	if err != nil {
		return err
	}
	rec.SourceBytes = len(data)
	out, _ := json.Marshal(rec)
	if err := os.WriteFile(os.Getenv("CONVOX_FAKE_BUILD_RECORD"), out, 0o600); err != nil {
		return err
	}
	fmt.Println("fake build task: building", app)
	r, err := rack.ReleaseCreate(app, structs.ReleaseCreateOptions{Build: &id})
	if err != nil {
		return err
	}
	status, now := structs.BuildStatusComplete, time.Now().UTC()
	cache := `[{"service":"web","steps":3,"cached":0,"seconds":0.5,"persistent-cache":true}]`
	_, err = rack.BuildUpdate(app, id, structs.BuildUpdateOptions{Status: &status, Release: &r.Id, Ended: &now, Cache: &cache})
	return err
}

// toolsDir is where `make tools` puts the pinned tools.
func toolsDir(t *testing.T) string {
	dir := os.Getenv("CONVOX_TOOLS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "convox-rack-tools")
	}
	dir = filepath.Join(dir, "bin")
	if _, err := os.Stat(filepath.Join(dir, "buildkitd")); err != nil {
		require.NotEqualValues(t, "true", os.Getenv("CI"), "buildkitd is missing from %s: run `make tools`", dir)
		t.Skipf("buildkitd is missing from %s: run `make tools`", dir)
	}
	return dir
}

// TestLocalRackEndToEnd drives the CLI against the API over the real local
// provider: parameters reach it, and `convox build --no-cache --build-args`
// reaches the build task it starts as -cache=false and -build-args.
func TestLocalRackEndToEnd(t *testing.T) {
	tools := toolsDir(t)
	dir := t.TempDir()
	record := filepath.Join(dir, "task.json")
	exe, err := os.Executable()
	require.NoError(t, err)
	task := filepath.Join(dir, "build")
	script := fmt.Sprintf("#!/bin/sh\nCONVOX_FAKE_BUILD_TASK=1 CONVOX_FAKE_BUILD_RECORD=%q exec %q \"$@\"\n", record, exe)
	require.NoError(t, os.WriteFile(task, []byte(script), 0o755))
	p, err := local.New(local.Options{
		Name: "e2e", Dir: filepath.Join(dir, "rack"), Password: rackPassword,
		BuildBinary: task, Tools: tools, JanitorInterval: -1,
	})
	require.NoError(t, err)
	ts := httptest.NewServer(api.New(p, rackPassword, api.WithLog(io.Discard)))
	t.Cleanup(func() { ts.Close(); p.Close() })
	url := strings.Replace(ts.URL, "http://", "http://convox:"+rackPassword+"@", 1)
	p.SetURL(url)

	res := convox(t, nil, "rack", "params", "set", "BuildCacheRetentionDays=0", "-r", url)
	require.EqualValues(t, 1, res.code, "invalid parameter: exit %d stderr %q", res.code, res.stderr)
	require.Contains(t, res.stderr, "from 1 to 365", "invalid parameter: exit %d stderr %q", res.code, res.stderr)
	res = convox(t, nil, "rack", "params", "set", "BuildCache=Yes", "-r", url)
	require.EqualValues(t, 0, res.code, "params set: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.EqualValues(t, "Updating parameters... OK\n", res.stdout, "params set: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	s, err := p.SystemGet()
	require.NoError(t, err, "BuildCache did not reach the local rack: %v %v", s, err)
	require.EqualValues(t, "Yes", s.Parameters["BuildCache"], "BuildCache did not reach the local rack: %v %v", s, err)
	res = convox(t, nil, "apps", "create", "app1", "-r", url)
	require.EqualValues(t, 0, res.code, "apps create: exit %d stderr %q", res.code, res.stderr)

	res = convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", url, "--no-cache", "--build-args", "A=1", "-d", "e2e")
	require.EqualValues(t, 0, res.code, "build: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	mustContain(t, "build output", res.stdout, "Starting build... OK\n", "fake build task: building app1\n", "Release: R")
	data, err := os.ReadFile(record)
	require.NotErrorIs(t, err, os.ErrNotExist, "the build task never ran")
	var rec taskRecord
	require.NoError(t, json.Unmarshal(data, &rec))
	assert.True(t, slices.Contains(rec.Args, "-cache=false"), "--no-cache did not reach the task as -cache=false: args %q", rec.Args)
	i := slices.Index(rec.Args, "-build-args")
	assert.False(t, i < 0, "--build-args did not reach the task: args %q", rec.Args)
	assert.False(t, i+1 >= len(rec.Args), "--build-args did not reach the task: args %q", rec.Args)
	assert.EqualValues(t, "A=1", rec.Args[i+1], "--build-args did not reach the task: args %q", rec.Args)
	assert.EqualValues(t, "true", rec.Env["BUILD_CACHE"], "task env %v, source %d bytes", rec.Env, rec.SourceBytes)
	assert.True(t, strings.HasSuffix(rec.Env["BUILD_CACHE_REPO"], "/e2e-build-cache"), "task env %v, source %d bytes", rec.Env, rec.SourceBytes)
	assert.NotZero(t, rec.SourceBytes, "task env %v, source %d bytes", rec.Env, rec.SourceBytes)

	id := strings.TrimSpace(strings.SplitN(strings.SplitN(res.stdout, "Build:   ", 2)[1], "\n", 2)[0])
	info := convox(t, nil, "builds", "info", id, "-a", "app1", "-r", url)
	mustContain(t, "builds info", info.stdout, "Status       complete", "Description  e2e", "Cache        web  0/3 steps cached  0.5s  persistent cache")
}
