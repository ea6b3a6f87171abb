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
	if err := rp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.kill() })
	for i := 0; i < 600; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return rp
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("rack did not listen:\n%s", rp.log.String())
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
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/convox/rack/cmd/rack").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rack: %v\n%s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	data := t.TempDir()
	rp := startRackProcess(t, bin, data, port)
	rack, err := sdk.New("http://convox:kill-pw@127.0.0.1:" + port)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rack.AppCreate("demo", structs.AppCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := rack.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}}); err != nil {
		t.Fatal(err)
	}
	var src bytes.Buffer
	if err := tarball.Create(filepath.Join(testenv.RepoRoot(), "examples", "cached-deps"), &src, nil); err != nil {
		t.Fatal(err)
	}
	obj, err := rack.ObjectStore("demo", "tmp/src.tgz", &src, structs.ObjectStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// a quick build fills the cache before the crash
	small := structs.BuildCreateOptions{BuildArgs: []string{"DEPS_WORK_MB=50"}}
	if first := buildAndWait(t, rack, obj.Url, small); first.Status != structs.BuildStatusComplete {
		t.Fatalf("build before the crash: %s %s", first.Status, first.Reason)
	}
	// The default DEPS_WORK_MB hashes 6 GB: long enough to kill the rack inside it.
	b, err := rack.BuildCreate("demo", obj.Url, structs.BuildCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got, err := rack.BuildGet("demo", b.Id)
		if err != nil {
			t.Fatal(err)
		}
		logs, _ := os.ReadFile(filepath.Join(data, "logs", "demo", b.Id+".log"))
		if got.Status == structs.BuildStatusRunning && strings.Contains(string(logs), "sha256sum") {
			break
		}
		if got.Terminal() || time.Now().After(deadline) {
			t.Fatalf("build did not reach its long step: %s %s\n%s", got.Status, got.Reason, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rp.kill()

	startRackProcess(t, bin, data, port)
	got, err := rack.BuildGet("demo", b.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != structs.BuildStatusFailed || !strings.Contains(got.Reason, "restarted") {
		t.Fatalf("build after the restart: %s %q", got.Status, got.Reason)
	}
	rc, err := rack.BuildLogs("demo", b.Id, structs.LogsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logs.ReadFrom(rc)
	rc.Close()
	if !strings.Contains(logs.String(), "sha256sum") || !strings.Contains(logs.String(), "restarted") {
		t.Fatalf("logs after the restart:\n%s", logs.String())
	}
	// the orphaned step container of the killed daemon is gone
	list, _ := exec.Command(testenv.Tool(t, "runc"), "list", "--format", "json").Output()
	if strings.Contains(string(list), data) {
		t.Fatalf("a build step container of the killed rack survived the restart: %s", list)
	}
	t.Logf("build %s after the restart: %s (%s)", b.Id, got.Status, got.Reason)

	// the cache the crash interrupted still serves the build it served before
	again := buildAndWait(t, rack, obj.Url, small)
	if again.Status != structs.BuildStatusComplete {
		t.Fatalf("build after the restart: %s %s", again.Status, again.Reason)
	}
	for _, c := range again.Cache {
		t.Logf("build %s after the restart: %s %d of %d steps cached, persistent cache %v", again.Id, c.Service, c.Cached, c.Steps, c.PersistentCache)
		if c.Cached != c.Steps || c.Steps == 0 || !c.PersistentCache {
			t.Errorf("build after the restart: %s %d of %d steps cached, persistent cache %v", c.Service, c.Cached, c.Steps, c.PersistentCache)
		}
	}
}

// buildAndWait builds url on app demo and waits for the build to end.
func buildAndWait(t *testing.T, rack *sdk.Client, url string, opts structs.BuildCreateOptions) *structs.Build {
	t.Helper()
	b, err := rack.BuildCreate("demo", url, opts)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		got, err := rack.BuildGet("demo", b.Id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Terminal() {
			return got
		}
	}
	t.Fatalf("build %s did not end within 5 minutes", b.Id)
	return nil
}
