package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local/builder"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowApp is SmallApp with a long last step to be killed in.
func slowApp(t *testing.T, token string) string {
	return rackenv.App(t, map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n",
		"Dockerfile": "FROM busybox:latest\nWORKDIR /app\nRUN echo built > built.txt\nCOPY token.txt .\n" +
			"RUN echo slow-step-begins && sleep 60\n",
		"token.txt": token + "\n",
	})
}

// child finds a process this test process started (directly) whose command
// line contains every one of words, or whose environment holds env; 0 if none.
func child(words []string, env string) int {
	me := strconv.Itoa(os.Getpid())
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != me {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		environ, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		ok := true
		for _, w := range words {
			ok = ok && bytes.Contains(cmdline, []byte(w))
		}
		if env != "" {
			ok = ok && bytes.Contains(append(append([]byte{0}, environ...), 0), []byte("\x00"+env+"\x00"))
		}
		if ok {
			return pid
		}
	}
	return 0
}

// untilLog waits until a build's log has s in it while it runs.
func untilLog(t *testing.T, r *rackenv.Rack, id, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(filepath.Join(r.Dir, "logs", "app1", id+".log"))
		if strings.Contains(string(data), s) {
			return
		}
		b, err := r.BuildGet("app1", id)
		if err == nil {
			require.False(t, b.Terminal(), "build %s ended (%s %s) before %q", id, b.Status, b.Reason, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Fail(t, fmt.Sprintf("build %s never logged %q", id, s))
}

// TestKillMidBuild kills, in the middle of a build's long step, the build
// task process, then the BuildKit daemon: each time the build ends failed
// with a reason and its logs, the record is whole and listed once, and the
// next build completes from a cache that still serves it.
func TestKillMidBuild(t *testing.T) {
	runc := testenv.Tool(t, "runc")
	r := rackenv.Start(t, rackenv.Options{})
	// before the rack stops and its directory goes: remove what killed steps left
	t.Cleanup(func() { builder.CleanRoot(runc, filepath.Join(r.Dir, "buildkit")) })
	c := r.Client
	err := c.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
	require.NoError(t, err)
	_, err = c.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	warm, err := c.BuildCreate("app1", r.Upload(t, "app1", rackenv.SmallApp(t, "warm")), structs.BuildCreateOptions{})
	require.NoError(t, err)
	wb, wlogs := r.Wait(t, "app1", warm.Id, 5*time.Minute)
	require.Equal(t, structs.BuildStatusComplete, wb.Status, "warm build: %s %s\n%s", wb.Status, wb.Reason, tail(wlogs))

	victims := map[string]func(id string) int{
		"build task":      func(id string) int { return child(nil, "BUILD_ID="+id) },
		"BuildKit daemon": func(string) int { return child([]string{"buildkitd", r.Dir}, "") },
	}
	for _, name := range []string{"build task", "BuildKit daemon"} {
		t.Run(name, func(t *testing.T) {
			b, err := c.BuildCreate("app1", r.Upload(t, "app1", slowApp(t, "kill-"+name)), structs.BuildCreateOptions{})
			require.NoError(t, err)
			untilLog(t, r, b.Id, "slow-step-begins")
			pid := victims[name](b.Id)
			require.NotZero(t, pid, "no %s process of this rack found", name)
			t.Logf("killing the %s, pid %d", name, pid)
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
			got, logs := r.Wait(t, "app1", b.Id, 2*time.Minute)
			// nothing of the killed build runs on (an engine client would still push)
			stray := withEnv(t, "BUILD_ID="+b.Id)
			for i := 0; i < 20 && len(stray) > 0; i++ {
				time.Sleep(500 * time.Millisecond)
				stray = withEnv(t, "BUILD_ID="+b.Id)
			}
			assert.Empty(t, stray, "10s after the build failed, processes of the killed build still run: %s", strings.Join(stray, "; "))
			assert.Equal(t, structs.BuildStatusFailed, got.Status, "build after its %s was killed: %s %q", name, got.Status, got.Reason)
			assert.NotEmpty(t, strings.TrimSpace(got.Reason), "build after its %s was killed: %s %q", name, got.Status, got.Reason)
			t.Logf("reason: %s", got.Reason)
			assert.Contains(t, logs, "slow-step-begins", "logs of the killed build lack its output or the failure:\n%s", tail(logs))
			assert.Contains(t, logs, "ERROR", "logs of the killed build lack its output or the failure:\n%s", tail(logs))
			checkWhole(t, r, got)

			// the next build completes and the cache still serves it
			next, err := c.BuildCreate("app1", r.Upload(t, "app1", rackenv.SmallApp(t, "warm")), structs.BuildCreateOptions{})
			require.NoError(t, err)
			nb, nlogs := r.Wait(t, "app1", next.Id, 5*time.Minute)
			require.Equal(t, structs.BuildStatusComplete, nb.Status, "build after the kill: %s %s\n%s", nb.Status, nb.Reason, tail(nlogs))
			require.NotEmpty(t, nb.Cache, "build after the kill has no cache summary")
			for _, s := range nb.Cache {
				assert.NotZero(t, s.Cached, "build after the kill: %d of %d cached, persistent %v", s.Cached, s.Steps, s.PersistentCache)
				assert.True(t, s.PersistentCache, "build after the kill: %d of %d cached, persistent %v", s.Cached, s.Steps, s.PersistentCache)
			}
			// and the killed build's step containers do not live on
			left := containersUnder(t, runc, r.Dir)
			for i := 0; i < 40 && len(left) > 0; i++ {
				time.Sleep(500 * time.Millisecond)
				left = containersUnder(t, runc, r.Dir)
			}
			assert.Empty(t, left, "after the %s was killed and the next build ran, step containers of the killed build still run 20s later: %v", name, left)
		})
	}
}

// checkWhole: a failed record has every field a finished build has, and
// appears exactly once in the list, identical to its own GET.
func checkWhole(t *testing.T, r *rackenv.Rack, b *structs.Build) {
	t.Helper()
	assert.False(t, b.Ended.IsZero(), "build %s times: started %v ended %v", b.Id, b.Started, b.Ended)
	assert.False(t, b.Started.IsZero(), "build %s times: started %v ended %v", b.Id, b.Started, b.Ended)
	assert.False(t, b.Ended.Before(b.Started), "build %s times: started %v ended %v", b.Id, b.Started, b.Ended)
	assert.Empty(t, b.Release, "failed build %s has release %s", b.Id, b.Release)
	list, err := r.Client.BuildList("app1", structs.BuildListOptions{})
	require.NoError(t, err)
	n := 0
	for _, l := range list {
		if l.Id == b.Id {
			n++
			a, _ := json.Marshal(l)
			g, _ := json.Marshal(b)
			assert.True(t, bytes.Equal(a, g), "build %s differs between list and get:\n%s\n%s", b.Id, a, g)
		}
	}
	assert.EqualValues(t, 1, n, "build %s listed %d times", b.Id, n)
}

// containersUnder lists runc containers whose bundle lies under dir; a
// failed lookup fails the test rather than reading as "none left".
func containersUnder(t *testing.T, runc, dir string) []string {
	t.Helper()
	out, err := exec.Command(runc, "list", "--format", "json").Output()
	require.NoError(t, err, "runc list")
	var cs []struct {
		ID     string `json:"id"`
		Bundle string `json:"bundle"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(out, &cs), "runc list output %q", out)
	var found []string
	for _, c := range cs {
		if strings.HasPrefix(c.Bundle, filepath.Clean(dir)+"/") && c.Status == "running" {
			found = append(found, c.ID)
		}
	}
	return found
}

// withEnv lists the processes (any parent) whose environment holds env, as
// "pid cmdline"; an unreadable /proc fails the test rather than reading as none.
func withEnv(t *testing.T, env string) []string {
	t.Helper()
	var found []string
	dirs, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil || !bytes.Contains(append(append([]byte{0}, environ...), 0), []byte("\x00"+env+"\x00")) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		cmd := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if len(cmd) > 120 {
			cmd = cmd[:120] + "…"
		}
		found = append(found, d.Name()+" "+cmd)
	}
	return found
}
