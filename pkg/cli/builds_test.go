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
)

// buildOn runs `convox build` on app and returns the finished build.
func buildOn(t *testing.T, r *testRack, app, description string) *structs.Build {
	t.Helper()
	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", app, "-r", r.url, "-d", description)
	if res.code != 0 {
		t.Fatalf("build: exit %d stderr %q", res.code, res.stderr)
	}
	id := regexp.MustCompile(`Build:   (B[A-Z]+)`).FindStringSubmatch(res.stdout)[1]
	b, err := r.p.BuildGet(app, id)
	if err != nil {
		t.Fatal(err)
	}
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
	if res.code != 0 || len(lines) != 3 {
		t.Fatalf("builds: exit %d\n%s", res.code, res.stdout)
	}
	if !regexp.MustCompile(`^ID +STATUS +RELEASE +STARTED +ELAPSED +DESCRIPTION$`).MatchString(lines[0]) {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], second.Id+"  complete  "+second.Release) || !strings.HasSuffix(lines[1], "second") {
		t.Errorf("newest build not first: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], first.Id) {
		t.Errorf("second row %q", lines[2])
	}
	if res := convox(t, nil, "builds", "-a", "app1", "-r", r.url, "--limit", "1"); strings.Count(res.stdout, "\n") != 2 {
		t.Errorf("--limit 1:\n%s", res.stdout)
	}

	res = convox(t, nil, "builds", "info", second.Id, "-a", "app1", "-r", r.url)
	if res.code != 0 {
		t.Fatalf("builds info: exit %d stderr %q", res.code, res.stderr)
	}
	mustContain(t, "builds info", res.stdout,
		"Id           "+second.Id, "Status       complete", "Release      "+second.Release, "Description  second",
		"Cache        web     4/5 steps cached  2.2s  persistent cache (from the rack's shared cache)\n",
		"             worker  0/3 steps cached  10.0s  local cache only\n",
		"             api     3/3 steps cached  1.0s  persistent cache (from the app's own cache)\n")

	res = convox(t, nil, "builds", "logs", second.Id, "-a", "app1", "-r", r.url)
	if res.code != 0 || res.stdout != "web: cached 4 of 5 steps\n" {
		t.Fatalf("builds logs: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := convox(t, nil, "builds", "info", "BNOSUCHBUILD", "-a", "app1", "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: no such build") {
		t.Fatalf("missing build: exit %d stderr %q", res.code, res.stderr)
	}
	if res := convox(t, nil, "builds", "logs", "BNOSUCHBUILD", "-a", "app1", "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: ") {
		t.Fatalf("logs of a missing build: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestExportPipedIntoImport: `convox builds export B -a app1 -r rack1 |
// convox builds import -a app2 -r rack2` across two racks.
func TestExportPipedIntoImport(t *testing.T) {
	rack1, rack2 := newRack(t, "app1"), newRack(t, "app2")
	b := buildOn(t, rack1, "app1", "to be moved")

	// A real pipe, both ends running at once, as in a shell.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	expc := make(chan result, 1)
	go func() {
		defer pw.Close()
		expc <- convoxTo(t, pw, nil, "builds", "export", b.Id, "-a", "app1", "-r", rack1.url)
	}()
	imp := convox(t, io.TeeReader(pr, &archive), "builds", "import", "-a", "app2", "-r", rack2.url)
	pr.Close()
	exp := <-expc
	if exp.code != 0 {
		t.Fatalf("export: exit %d stderr %q", exp.code, exp.stderr)
	}
	if exp.stderr != "Exporting build... OK\n" {
		t.Errorf("export progress should go to stderr, got %q", exp.stderr)
	}
	if !bytes.HasPrefix(archive.Bytes(), []byte{0x1f, 0x8b}) {
		t.Fatalf("stdout is not the gzip archive alone: %q", archive.String())
	}

	if imp.code != 0 {
		t.Fatalf("import: exit %d stderr %q", imp.code, imp.stderr)
	}
	bs, _ := rack2.p.BuildList("app2", structs.BuildListOptions{})
	if len(bs) != 1 || bs[0].Description != "to be moved" || bs[0].Release == "" {
		t.Fatalf("rack2 builds %+v", bs)
	}
	if want := fmt.Sprintf("Importing build... OK, %s\n", bs[0].Release); imp.stdout != want {
		t.Errorf("import stdout %q, want %q", imp.stdout, want)
	}
	if n := len(rack1.p.Calls("BuildImport")) + len(rack2.p.Calls("BuildExport")); n != 0 {
		t.Errorf("export and import went to the wrong racks")
	}

	file := filepath.Join(t.TempDir(), "build.tgz")
	if res := convox(t, nil, "builds", "export", b.Id, "-a", "app1", "-r", rack1.url, "-f", file); res.code != 0 || res.stdout != "Exporting build... OK\n" {
		t.Fatalf("export -f: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := convox(t, nil, "builds", "import", "-a", "app2", "-r", rack2.url, "-f", file, "--id"); res.code != 0 || !regexp.MustCompile(`^R[A-Z]{10}$`).MatchString(res.stdout) {
		t.Fatalf("import -f --id: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := convox(t, strings.NewReader("not an archive"), "builds", "import", "-a", "app2", "-r", rack2.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: ") {
		t.Fatalf("import garbage: exit %d stderr %q", res.code, res.stderr)
	}
}

// openPTY returns the terminal side of a new pseudo terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlockpt: %v", errno)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	if !stdcli.IsTerminal(tty) {
		t.Fatal("pts is not a terminal")
	}
	return tty
}

func TestExportImportRefuseTerminal(t *testing.T) {
	r := newRack(t, "app1")
	b := buildOn(t, r, "app1", "x")
	tty := openPTY(t)
	res := convoxTo(t, tty, nil, "builds", "export", b.Id, "-a", "app1", "-r", r.url)
	if res.code != 1 || res.stderr != "ERROR: pipe this command into a file or specify --file\n" {
		t.Fatalf("export to a terminal: exit %d stderr %q", res.code, res.stderr)
	}
	res = convox(t, tty, "builds", "import", "-a", "app1", "-r", r.url)
	if res.code != 1 || res.stderr != "ERROR: pipe a file into this command or specify --file\n" {
		t.Fatalf("import from a terminal: exit %d stderr %q", res.code, res.stderr)
	}
	if n := len(r.p.Calls("BuildExport")) + len(r.p.Calls("BuildImport")); n != 0 {
		t.Fatalf("the rack was asked %d times", n)
	}
}

func TestReleases(t *testing.T) {
	r := newRack(t, "app1")
	b1 := buildOn(t, r, "app1", "one")
	time.Sleep(10 * time.Millisecond)
	b2 := buildOn(t, r, "app1", "two")
	res := convox(t, nil, "releases", "promote", b1.Release, "-a", "app1", "-r", r.url)
	if res.code != 0 || res.stdout != "Promoting "+b1.Release+"... OK\n" {
		t.Fatalf("promote: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = convox(t, nil, "releases", "-a", "app1", "-r", r.url)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 3 {
		t.Fatalf("releases: exit %d\n%s", res.code, res.stdout)
	}
	if !regexp.MustCompile(`^ID +STATUS +BUILD +CREATED +DESCRIPTION$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^`+b2.Release+` +`+b2.Id+` `).MatchString(lines[1]) ||
		!regexp.MustCompile(`^`+b1.Release+`  active  `+b1.Id+` .* one$`).MatchString(lines[2]) {
		t.Fatalf("releases:\n%s", res.stdout)
	}
	if res := convox(t, nil, "releases", "promote", "RNOPE", "-a", "app1", "-r", r.url); res.code != 1 || !strings.Contains(res.stderr, "ERROR: no such release") {
		t.Fatalf("promote missing: exit %d stderr %q", res.code, res.stderr)
	}
}
