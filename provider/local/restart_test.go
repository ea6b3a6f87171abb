package local

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rackProcess is cmd/rack running PROVIDER=local as its own process.
type rackProcess struct {
	cmd *exec.Cmd
	log bytes.Buffer
}

// startRackProcess runs the rack binary on data and waits until it answers.
func startRackProcess(t *testing.T, bin, data, port string) *rackProcess {
	t.Helper()
	rp := &rackProcess{cmd: exec.Command(bin)}
	rp.cmd.Env = append(os.Environ(), "PROVIDER=local", "RACK_PASSWORD=kill-pw", "RACK_DATA="+data, "PORT="+port,
		"RACK_URL=", "RACK_BUILD_BINARY="+testenv.BuildBinary(t), "CONVOX_TOOLS="+testenv.ToolsDir(), "CONVOX_IGNORE_DOCKER=1")
	rp.cmd.Stdout, rp.cmd.Stderr = &rp.log, &rp.log
	require.NoError(t, rp.cmd.Start())
	t.Cleanup(func() { rp.kill() })
	for i := 0; i < 600; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return rp
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Fail(t, fmt.Sprintf("rack did not listen:\n%s", rp.log.String()))
	return nil
}

// kill ends the rack with SIGKILL: no chance to clean up, like a crash.
func (rp *rackProcess) kill() {
	if rp.cmd.ProcessState == nil {
		rp.cmd.Process.Signal(syscall.SIGKILL)
		rp.cmd.Wait()
	}
}

// A rack killed in the middle of a build and started again shows that build
// failed with a reason, not running, and still has its logs; the build cache
// it had filled before still serves the next build.
func TestRackKilledMidBuild(t *testing.T) {
	testenv.Tool(t, "buildkitd")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root privileges for buildkitd and runc")
	}
	bin := filepath.Join(t.TempDir(), "rack")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/convox/rack/cmd/rack").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/rack: %v\n%s", err, out)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	data := t.TempDir()
	rp := startRackProcess(t, bin, data, port)
	rack, err := sdk.New("http://convox:kill-pw@127.0.0.1:" + port)
	require.NoError(t, err)
	_, err = rack.AppCreate("demo", structs.AppCreateOptions{})
	require.NoError(t, err)
	err = rack.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
	require.NoError(t, err)
	var src bytes.Buffer
	require.NoError(t, tarball.Create(filepath.Join(testenv.RepoRoot(), "examples", "cached-deps"), &src, nil))
	obj, err := rack.ObjectStore("demo", "tmp/src.tgz", &src, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	// a quick build fills the cache before the crash
	small := structs.BuildCreateOptions{BuildArgs: []string{"DEPS_WORK_MB=50"}}
	first := buildAndWait(t, rack, obj.Url, small)
	require.Equal(t, structs.BuildStatusComplete, first.Status, "build before the crash: %s %s", first.Status, first.Reason)
	// The default DEPS_WORK_MB hashes 6 GB: long enough to kill the rack inside it.
	b, err := rack.BuildCreate("demo", obj.Url, structs.BuildCreateOptions{})
	require.NoError(t, err)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got, err := rack.BuildGet("demo", b.Id)
		require.NoError(t, err)
		logs, _ := os.ReadFile(filepath.Join(data, "logs", "demo", b.Id+".log"))
		if got.Status == structs.BuildStatusRunning && strings.Contains(string(logs), "sha256sum") {
			break
		}
		require.False(t, got.Terminal(), "build did not reach its long step: %s %s\n%s", got.Status, got.Reason, logs)
		require.False(t, time.Now().After(deadline), "build did not reach its long step: %s %s\n%s", got.Status, got.Reason, logs)
		time.Sleep(200 * time.Millisecond)
	}
	rp.kill()

	startRackProcess(t, bin, data, port)
	got, err := rack.BuildGet("demo", b.Id)
	require.NoError(t, err)
	require.Equal(t, structs.BuildStatusFailed, got.Status, "build after the restart: %s %q", got.Status, got.Reason)
	require.Contains(t, got.Reason, "restarted", "build after the restart: %s %q", got.Status, got.Reason)
	rc, err := rack.BuildLogs("demo", b.Id, structs.LogsOptions{})
	require.NoError(t, err)
	var logs bytes.Buffer
	logs.ReadFrom(rc)
	rc.Close()
	require.Contains(t, logs.String(), "sha256sum", "logs after the restart:\n%s", logs.String())
	require.Contains(t, logs.String(), "restarted", "logs after the restart:\n%s", logs.String())
	// the orphaned step container of the killed daemon is gone
	list, err := exec.Command(testenv.Tool(t, "runc"), "list", "--format", "json").Output()
	require.NoError(t, err, "runc list")
	require.NotContains(t, string(list), data, "a build step container of the killed rack survived the restart: %s", list)
	t.Logf("build %s after the restart: %s (%s)", b.Id, got.Status, got.Reason)

	// the cache the crash interrupted still serves the build it served before
	var touched bytes.Buffer // other inputs than the first build's, so it is built, not reused
	require.NoError(t, tarball.Create(testenv.Touched(t, "cached-deps", "again"), &touched, nil))
	obj, err = rack.ObjectStore("demo", "tmp/again.tgz", &touched, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	again := buildAndWait(t, rack, obj.Url, small)
	require.Equal(t, structs.BuildStatusComplete, again.Status, "build after the restart: %s %s", again.Status, again.Reason)
	require.NotEmpty(t, again.Cache, "build after the restart has no cache summary")
	for _, c := range again.Cache {
		t.Logf("build %s after the restart: %s %d of %d steps cached, persistent cache %v", again.Id, c.Service, c.Cached, c.Steps, c.PersistentCache)
		assert.Equal(t, c.Steps, c.Cached, "build after the restart: %s %d of %d steps cached, persistent cache %v", c.Service, c.Cached, c.Steps, c.PersistentCache)
		assert.NotZero(t, c.Steps, "build after the restart: %s %d of %d steps cached, persistent cache %v", c.Service, c.Cached, c.Steps, c.PersistentCache)
		assert.True(t, c.PersistentCache, "build after the restart: %s %d of %d steps cached, persistent cache %v", c.Service, c.Cached, c.Steps, c.PersistentCache)
	}
}

// buildAndWait builds url on app demo and waits for the build to end.
func buildAndWait(t *testing.T, rack *sdk.Client, url string, opts structs.BuildCreateOptions) *structs.Build {
	t.Helper()
	b, err := rack.BuildCreate("demo", url, opts)
	require.NoError(t, err)
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		got, err := rack.BuildGet("demo", b.Id)
		require.NoError(t, err)
		if got.Terminal() {
			return got
		}
	}
	require.Fail(t, fmt.Sprintf("build %s did not end within 5 minutes", b.Id))
	return nil
}
