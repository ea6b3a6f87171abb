package cli_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildOn runs `convox build` on app and returns the finished build.
func buildOn(t *testing.T, r *testRack, app, description string) *structs.Build {
	t.Helper()
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", app, "-r", r.url, "-d", description)
	require.EqualValues(t, 0, res.code, "build: exit %d stderr %q", res.code, res.stderr)
	id := regexp.MustCompile(`Build:   (B[A-Z]+)`).FindStringSubmatch(res.stdout)[1]
	b, err := r.p.BuildGet(app, id)
	require.NoError(t, err)
	return b
}

func TestBuildsListInfoLogs(t *testing.T) {
	r := newRack(t, "app1")
	r.p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{
			Logs: []string{"web: cached 4 of 5 steps\n"}, Status: structs.BuildStatusComplete,
			Cache: []structs.BuildServiceSummary{
				{Service: "web", Steps: 5, Cached: 4, Seconds: 2.25, PersistentCache: true, CacheSource: structs.CacheSourceShared},
				{Service: "worker", Steps: 3, Cached: 0, Seconds: 10},
				{Service: "api", Steps: 3, Cached: 3, Seconds: 1, PersistentCache: true, CacheSource: structs.CacheSourceApp},
			},
		}
	}
	first := buildOn(t, r, "app1", "first")
	time.Sleep(20 * time.Millisecond)
	second := buildOn(t, r, "app1", "second")

	res := convox(t, nil, "builds", "-a", "app1", "-r", r.url)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	require.EqualValues(t, 0, res.code, "builds: exit %d\n%s", res.code, res.stdout)
	require.Len(t, lines, 3, "builds: exit %d\n%s", res.code, res.stdout)
	assert.True(t, regexp.MustCompile(`^ID +STATUS +RELEASE +STARTED +ELAPSED +DESCRIPTION$`).MatchString(lines[0]), "header %q", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], second.Id+"  complete  "+second.Release), "newest build not first: %q", lines[1])
	assert.True(t, strings.HasSuffix(lines[1], "second"), "newest build not first: %q", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], first.Id), "second row %q", lines[2])
	limited := convox(t, nil, "builds", "-a", "app1", "-r", r.url, "--limit", "1")
	assert.Equal(t, 2, strings.Count(limited.stdout, "\n"), "--limit 1:\n%s", limited.stdout)

	res = convox(t, nil, "builds", "info", second.Id, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "builds info: exit %d stderr %q", res.code, res.stderr)
	mustContain(t, "builds info", res.stdout,
		"Id           "+second.Id, "Status       complete", "Release      "+second.Release, "Description  second",
		"Cache        web     4/5 steps cached  2.2s  persistent cache (from the rack's shared cache)\n",
		"             worker  0/3 steps cached  10.0s  local cache only\n",
		"             api     3/3 steps cached  1.0s  persistent cache (from the app's own cache)\n")

	// a build that reused another says which
	summary := `[{"service":"web","steps":5,"cached":5,"persistent-cache":true,"cache-source":"reused"}]`
	_, err := r.p.BuildUpdate("app1", second.Id, structs.BuildUpdateOptions{Reused: &first.Id, Cache: &summary})
	require.NoError(t, err)
	res = convox(t, nil, "builds", "info", second.Id, "-a", "app1", "-r", r.url)
	mustContain(t, "builds info", res.stdout, "Reused       the images of build "+first.Id+" (same inputs)",
		"Cache        web  5/5 steps cached", "persistent cache (from an earlier build's images, reused)")

	res = convox(t, nil, "builds", "logs", second.Id, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "builds logs: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.EqualValues(t, "web: cached 4 of 5 steps\n", res.stdout, "builds logs: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	missing := convox(t, nil, "builds", "info", "BNOSUCHBUILD", "-a", "app1", "-r", r.url)
	require.Equal(t, 1, missing.code, "missing build: stderr %q", missing.stderr)
	require.Contains(t, missing.stderr, "ERROR: no such build", "missing build")
	res = convox(t, nil, "builds", "logs", "BNOSUCHBUILD", "-a", "app1", "-r", r.url)
	require.EqualValues(t, 1, res.code, "logs of a missing build: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.Contains(t, res.stderr, "ERROR: ", "logs of a missing build: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
}

// TestExportPipedIntoImport: `convox builds export B -a app1 -r rack1 |
// convox builds import -a app2 -r rack2` across two racks.
func TestExportPipedIntoImport(t *testing.T) {
	rack1, rack2 := newRack(t, "app1"), newRack(t, "app2")
	b := buildOn(t, rack1, "app1", "to be moved")

	// A real pipe, both ends running at once, as in a shell.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	var archive bytes.Buffer
	expc := make(chan result, 1)
	go func() {
		defer pw.Close()
		expc <- convoxTo(t, pw, nil, "builds", "export", b.Id, "-a", "app1", "-r", rack1.url)
	}()
	imp := convox(t, io.TeeReader(pr, &archive), "builds", "import", "-a", "app2", "-r", rack2.url)
	pr.Close()
	exp := <-expc
	require.EqualValues(t, 0, exp.code, "export: exit %d stderr %q", exp.code, exp.stderr)
	assert.EqualValues(t, "Exporting build... OK\n", exp.stderr, "export progress should go to stderr, got %q", exp.stderr)
	require.True(t, bytes.HasPrefix(archive.Bytes(), []byte{0x1f, 0x8b}), "stdout is not the gzip archive alone: %q", archive.String())

	require.EqualValues(t, 0, imp.code, "import: exit %d stderr %q", imp.code, imp.stderr)
	bs, _ := rack2.p.BuildList("app2", structs.BuildListOptions{})
	require.Len(t, bs, 1, "rack2 builds %+v", bs)
	require.EqualValues(t, "to be moved", bs[0].Description, "rack2 builds %+v", bs)
	require.NotEmpty(t, bs[0].Release, "rack2 builds %+v", bs)
	want := fmt.Sprintf("Importing build... OK, %s\n", bs[0].Release)
	assert.Equal(t, want, imp.stdout, "import stdout %q, want %q", imp.stdout, want)
	assert.Empty(t, rack1.p.Calls("BuildImport"), "export and import went to the wrong racks")
	assert.Empty(t, rack2.p.Calls("BuildExport"), "export and import went to the wrong racks")

	file := filepath.Join(t.TempDir(), "build.tgz")
	res := convox(t, nil, "builds", "export", b.Id, "-a", "app1", "-r", rack1.url, "-f", file)
	require.EqualValues(t, 0, res.code, "export -f: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.EqualValues(t, "Exporting build... OK\n", res.stdout, "export -f: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	res = convox(t, nil, "builds", "import", "-a", "app2", "-r", rack2.url, "-f", file, "--id")
	require.EqualValues(t, 0, res.code, "import -f --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.True(t, regexp.MustCompile(`^R[A-Z]{10}$`).MatchString(res.stdout), "import -f --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	res = convox(t, strings.NewReader("not an archive"), "builds", "import", "-a", "app2", "-r", rack2.url)
	require.EqualValues(t, 1, res.code, "import garbage: exit %d stderr %q", res.code, res.stderr)
	require.Contains(t, res.stderr, "ERROR: ", "import garbage: exit %d stderr %q", res.code, res.stderr)
}

// openPTY returns the terminal side of a new pseudo terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err, "no pseudo terminal")
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.EqualValues(t, 0, errno, "unlockpt: %v", errno)
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	require.NoError(t, err, "ptsname")
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err, "open pts")
	t.Cleanup(func() { tty.Close() })
	require.True(t, stdcli.IsTerminal(tty), "pts is not a terminal")
	return tty
}

func TestExportImportRefuseTerminal(t *testing.T) {
	r := newRack(t, "app1")
	b := buildOn(t, r, "app1", "x")
	tty := openPTY(t)
	res := convoxTo(t, tty, nil, "builds", "export", b.Id, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 1, res.code, "export to a terminal: exit %d stderr %q", res.code, res.stderr)
	require.EqualValues(t, "ERROR: pipe this command into a file or specify --file\n", res.stderr, "export to a terminal: exit %d stderr %q", res.code, res.stderr)
	res = convox(t, tty, "builds", "import", "-a", "app1", "-r", r.url)
	require.EqualValues(t, 1, res.code, "import from a terminal: exit %d stderr %q", res.code, res.stderr)
	require.EqualValues(t, "ERROR: pipe a file into this command or specify --file\n", res.stderr, "import from a terminal: exit %d stderr %q", res.code, res.stderr)
	n := len(r.p.Calls("BuildExport")) + len(r.p.Calls("BuildImport"))
	require.EqualValues(t, 0, n, "the rack was asked %d times", n)
}

func TestReleases(t *testing.T) {
	r := newRack(t, "app1")
	b1 := buildOn(t, r, "app1", "one")
	time.Sleep(10 * time.Millisecond)
	b2 := buildOn(t, r, "app1", "two")
	res := convox(t, nil, "releases", "promote", b1.Release, "-a", "app1", "-r", r.url)
	require.EqualValues(t, 0, res.code, "promote: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	require.Equal(t, "Promoting "+b1.Release+"... OK\n", res.stdout, "promote: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	res = convox(t, nil, "releases", "-a", "app1", "-r", r.url)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	require.EqualValues(t, 0, res.code, "releases: exit %d\n%s", res.code, res.stdout)
	require.Len(t, lines, 3, "releases: exit %d\n%s", res.code, res.stdout)
	require.Regexp(t, `^ID +STATUS +BUILD +CREATED +DESCRIPTION$`, lines[0], "releases:\n%s", res.stdout)
	require.Regexp(t, `^`+b2.Release+` +`+b2.Id+` `, lines[1], "releases:\n%s", res.stdout)
	require.Regexp(t, `^`+b1.Release+`  active  `+b1.Id+` .* one$`, lines[2], "releases:\n%s", res.stdout)
	res = convox(t, nil, "releases", "promote", "RNOPE", "-a", "app1", "-r", r.url)
	require.EqualValues(t, 1, res.code, "promote missing: exit %d stderr %q", res.code, res.stderr)
	require.Contains(t, res.stderr, "ERROR: no such release", "promote missing: exit %d stderr %q", res.code, res.stderr)
}
