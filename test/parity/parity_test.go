package parity

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/parity/imagecmp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// states of a case's context: as committed, then with its change file edited.
const (
	cold    = "cold"
	changed = "changed"
	same    = "nochange"
)

// workers is how many cases build at once (the machine has 2 cores).
const workers = 2

// caseRun is a case's contexts and references, shared by both methods.
type caseRun struct {
	parityCase
	dirs map[string]string // cold, changed -> context directory
	// docker and kaniko are the reference images per state (nil: the build failed)
	docker, kaniko       map[string]*imagecmp.Image
	dockerErr, kanikoErr map[string]string
	mu                   sync.Mutex
	report               []string
}

// TestParity builds every case of the corpus on one local rack with
// BuildCache=Yes, on both methods: cold, after a change, and with no change
// (fully cached). ec2 must match docker build exactly; fargate must match
// plain kaniko where kaniko matches docker build, and differ from docker
// build only as docs/FARGATE.md lists; constructs kaniko cannot build are
// refused before any work.
func TestParity(t *testing.T) {
	if testing.Short() {
		t.Skip("the parity corpus builds on a local rack (minutes)")
	}
	start := time.Now()
	h := startHarness(t)
	h.params(t, "BuildCache=Yes")
	var runs []*caseRun
	for _, c := range selected(t) {
		runs = append(runs, prepare(t, c))
	}
	t.Logf("rack and contexts ready in %s", time.Since(start).Round(time.Second))

	each(t, "references", runs, func(t *testing.T, r *caseRun) { references(t, h, r) })
	t.Logf("references built in %s", time.Since(start).Round(time.Second))
	for _, method := range []string{"ec2", "fargate"} {
		h.params(t, "BuildMethod="+method)
		for _, r := range runs {
			_, err := h.rack.AppCreate(app(r.name, method), structs.AppCreateOptions{})
			require.NoError(t, err)
		}
		each(t, method, runs, func(t *testing.T, r *caseRun) { builds(t, h, r, method) })
		t.Logf("%s builds done in %s", method, time.Since(start).Round(time.Second))
	}
	var sb strings.Builder
	for _, r := range runs {
		for _, line := range r.report {
			fmt.Fprintf(&sb, "%-22s %s\n", r.name, line)
		}
	}
	t.Logf("parity report (%s):\n%s", time.Since(start).Round(time.Second), sb.String())
}

// selected is the corpus, or the cases PARITY_CASES names (comma-separated),
// for a quick run while fixing one; under CI every case runs.
func selected(t *testing.T) []parityCase {
	names := os.Getenv("PARITY_CASES")
	if names == "" || testenv.InCI() {
		return cases
	}
	var out []parityCase
	for _, c := range cases {
		if strings.Contains(","+names+",", ","+c.name+",") {
			out = append(out, c)
		}
	}
	require.NotEmpty(t, out, "PARITY_CASES=%s names no case", names)
	t.Logf("PARITY_CASES: %d of %d cases", len(out), len(cases))
	return out
}

// each runs f on every case as a subtest, workers at a time.
func each(t *testing.T, phase string, runs []*caseRun, f func(*testing.T, *caseRun)) {
	t.Run(phase, func(t *testing.T) {
		sem := make(chan struct{}, workers)
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				f(t, r)
			})
		}
	})
}

// app is a case's app on the rack, one per method.
func app(name, method string) string {
	a := name
	if len(a) > 26 {
		a = a[:26]
	}
	return strings.TrimSuffix(a, "-") + "-" + method[:1]
}

// prepare copies a case's directory twice (as committed, and changed) with
// its setup applied and a convox.yml that builds it as service web.
func prepare(t *testing.T, c parityCase) *caseRun {
	src := filepath.Join("cases", c.name)
	_, err := os.Stat(filepath.Join(src, "Dockerfile"))
	require.NoError(t, err, "case %s", c.name)
	r := &caseRun{parityCase: c, dirs: map[string]string{},
		docker: map[string]*imagecmp.Image{}, kaniko: map[string]*imagecmp.Image{},
		dockerErr: map[string]string{}, kanikoErr: map[string]string{}}
	states := []string{cold}
	if c.change != "" {
		states = append(states, changed)
	}
	for _, state := range states {
		dir := filepath.Join(t.TempDir(), c.name, "context")
		require.NoError(t, copyTree(src, dir))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "convox.yml"), []byte("services:\n  web:\n    build: .\n"), 0o644))
		if c.setup != nil {
			c.setup(t, dir)
		}
		if state == changed {
			f, err := os.OpenFile(filepath.Join(dir, c.change), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err, "change of %s", c.name)
			_, err = f.WriteString("changed\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
		r.dirs[state] = dir
	}
	return r
}

// references builds a case's contexts with docker build and plain kaniko.
func references(t *testing.T, h *harness, r *caseRun) {
	for _, state := range []string{cold, changed} {
		dir, ok := r.dirs[state]
		if !ok {
			continue
		}
		img, out, err := h.dockerBuild(dir, t.TempDir())
		if err != nil {
			r.dockerErr[state] = err.Error() + "\n" + tail(out)
		}
		r.docker[state] = img
		if r.fargate.kind == refused {
			continue // plain kaniko fails or builds something else; the rack must refuse
		}
		img, out, err = h.kanikoBuild(dir, fmt.Sprintf("%s/parity-kaniko:%s.%s", h.reg.Host, r.name, state))
		if err != nil {
			r.kanikoErr[state] = err.Error() + "\n" + tail(out)
		}
		r.kaniko[state] = img
	}
	if r.ec2.kind == fails {
		assert.NotEmpty(t, r.dockerErr[cold], "docker build of %s should fail", r.name)
		assert.NotEmpty(t, r.kanikoErr[cold], "plain kaniko of %s should fail", r.name)
		return
	}
	for state := range r.dirs {
		require.Empty(t, r.dockerErr[state], "docker build of %s (%s)", r.name, state)
		if r.fargate.kind != refused {
			require.Empty(t, r.kanikoErr[state], "plain kaniko of %s (%s)", r.name, state)
		}
	}
}

// builds runs a case's three builds on one method and checks each.
func builds(t *testing.T, h *harness, r *caseRun, method string) {
	a := app(r.name, method)
	want := r.ec2
	if method == "fargate" {
		want = r.fargate
	}
	steps := []string{cold, changed, same}
	if want.kind == fails || want.kind == refused || r.change == "" {
		steps = []string{cold}
	}
	for _, step := range steps {
		state := step
		if step == same {
			state = changed
		}
		b, logs, img, err := h.rackBuild(t, a, r.dirs[state])
		verdict := check(t, r, method, step, want, b, logs, img, err)
		r.mu.Lock()
		r.report = append(r.report, fmt.Sprintf("%-7s %-8s %s", method, step, verdict))
		r.mu.Unlock()
	}
}

// check judges one rack build against the case's expectation and returns a
// one-line verdict for the report.
func check(t *testing.T, r *caseRun, method, step string, want expect, b *structs.Build, logs string, img *imagecmp.Image, err error) string {
	state := step
	if step == same {
		state = changed
	}
	fail := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...)
		assert.Fail(t, fmt.Sprintf("%s %s %s: %s", r.name, method, step, msg), tail(logs))
		return "FAIL " + firstLine(msg)
	}
	if want.kind != fails && r.docker[state] == nil {
		return fail("no docker build reference: %s", firstLine(r.dockerErr[state]))
	}
	if method == "fargate" && (want.kind == identical || want.kind == documented) && r.kaniko[state] == nil {
		return fail("no plain kaniko reference: %s", firstLine(r.kanikoErr[state]))
	}
	switch want.kind {
	case fails:
		if err == nil {
			return fail("built, but docker build and plain kaniko fail")
		}
		return "ok (fails: " + firstLine(reason(b, err)) + ")"
	case refused:
		if err == nil && want.orIdentical {
			if d := imagecmp.Compare(r.docker[state], img); len(d) > 0 {
				return fail("built (instead of refusing) with %d differences from docker build: %s", len(d), list(d))
			}
			return "ok (built, identical to docker build)"
		}
		if err != nil {
			if msg := refusal(want, reason(b, err)+"\n"+logs); msg != "" {
				return fail("%s", msg)
			}
			return "ok (refused)"
		}
		return fail("built; should be refused up front")
	}
	if err != nil {
		return fail("build failed: %v", err)
	}
	if step == same {
		if s, c := cachedSteps(b); s == 0 || c != s {
			return fail("rebuild with no change cached %d of %d steps", c, s)
		}
	}
	ref := r.docker[state]
	if method == "ec2" {
		if d := imagecmp.Compare(ref, img); len(d) > 0 {
			return fail("%d differences from docker build: %s", len(d), list(d))
		}
		return "ok (identical)"
	}
	return fargateVerdict(t, r, want, state, img, fail)
}

// fargateVerdict: fargate differs from docker build only where plain kaniko
// does, the same way, and only as the documented list says; where fargate
// differs from plain kaniko it must equal docker build.
func fargateVerdict(t *testing.T, r *caseRun, want expect, state string, img *imagecmp.Image, fail func(string, ...any) string) string {
	docker, kaniko := r.docker[state], r.kaniko[state]
	dk, df, kf := imagecmp.Compare(docker, kaniko), imagecmp.Compare(docker, img), imagecmp.Compare(kaniko, img)
	var problems []string
	if bad := undocumented(dk, want.diffs); len(bad) > 0 {
		problems = append(problems, fmt.Sprintf("plain kaniko differs from docker build beyond %v: %s", want.diffs, list(bad)))
	}
	for _, id := range want.diffs {
		if !shows(dk, id) {
			problems = append(problems, fmt.Sprintf("plain kaniko does not show the declared difference %s", id))
		}
	}
	inDK := map[imagecmp.Diff]bool{}
	for _, d := range dk {
		inDK[d] = true
	}
	var worse []imagecmp.Diff
	for _, d := range df {
		if !inDK[d] {
			worse = append(worse, d)
		}
	}
	if len(worse) > 0 {
		problems = append(problems, fmt.Sprintf("fargate differs from docker build where plain kaniko does not: %s", list(worse)))
	}
	dfKeys := map[[2]string]bool{}
	for _, d := range df {
		dfKeys[[2]string{string(d.Field), d.Path}] = true
	}
	var apart []imagecmp.Diff
	for _, d := range kf {
		if dfKeys[[2]string{string(d.Field), d.Path}] {
			apart = append(apart, d)
		}
	}
	if len(apart) > 0 && len(worse) == 0 {
		problems = append(problems, fmt.Sprintf("fargate differs from plain kaniko and from docker build: %s", list(apart)))
	}
	if len(problems) > 0 {
		return fail("%s", strings.Join(problems, "; "))
	}
	if len(df) == 0 {
		return "ok (identical to docker build)"
	}
	return fmt.Sprintf("ok (documented: %d differences as plain kaniko, %v)", len(df), want.diffs)
}

// undocumented are the differences none of ids explains.
func undocumented(diffs []imagecmp.Diff, ids []string) []imagecmp.Diff {
	var out []imagecmp.Diff
	for _, d := range diffs {
		ok := false
		for _, id := range ids {
			if doc, found := difference(id); found && doc.Match(d, diffs) {
				ok = true
			}
		}
		if !ok {
			out = append(out, d)
		}
	}
	return out
}

func shows(diffs []imagecmp.Diff, id string) bool {
	doc, found := difference(id)
	if !found {
		return false
	}
	for _, d := range diffs {
		if doc.Match(d, diffs) {
			return true
		}
	}
	return false
}

// refusal says what a refusal message misses: the Dockerfile and its line,
// the construct, BuildMethod=ec2; and that it came before any kaniko work.
func refusal(want expect, text string) string {
	var miss []string
	at := regexp.MustCompile(fmt.Sprintf(`(?i)Dockerfile\D{0,12}\b%[1]d\b|\bline\s+%[1]d\b[^\n]{0,40}Dockerfile`, want.line))
	if !at.MatchString(text) {
		miss = append(miss, fmt.Sprintf("the file and line (Dockerfile, %d)", want.line))
	}
	named := false
	for _, w := range want.words {
		if strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
			named = true
		}
	}
	if !named {
		miss = append(miss, fmt.Sprintf("the construct (%q)", want.words))
	}
	if !strings.Contains(text, "BuildMethod=ec2") {
		miss = append(miss, "BuildMethod=ec2")
	}
	if !want.late && (strings.Contains(text, "Retrieving image") || strings.Contains(text, "Unpacking rootfs")) {
		miss = append(miss, "no kaniko work before it (kaniko ran)")
	}
	if len(miss) == 0 {
		return ""
	}
	return "not refused as it should be: the message lacks " + strings.Join(miss, ", ") + ": " + firstLine(text)
}

func cachedSteps(b *structs.Build) (steps, hits int) {
	for _, s := range b.Cache {
		steps += s.Steps
		hits += s.Cached
	}
	return steps, hits
}

func reason(b *structs.Build, err error) string {
	if b != nil && b.Reason != "" {
		return b.Reason
	}
	return err.Error()
}

func list(diffs []imagecmp.Diff) string {
	var s []string
	for i, d := range diffs {
		if i == 12 {
			s = append(s, fmt.Sprintf("... %d more", len(diffs)-i))
			break
		}
		s = append(s, d.String())
	}
	return strings.Join(s, "; ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies a committed case directory (regular files and directories).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// TestCasesListed: every directory under cases/ is in the table and every
// entry has one, and each documented difference a case names exists.
func TestCasesListed(t *testing.T) {
	entries, err := os.ReadDir("cases")
	require.NoError(t, err)
	var dirs, listed []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	for _, c := range cases {
		listed = append(listed, c.name)
		for _, id := range append(append([]string{}, c.ec2.diffs...), c.fargate.diffs...) {
			_, ok := difference(id)
			assert.True(t, ok, "case %s names unknown difference %s", c.name, id)
		}
		assert.Equal(t, c.ec2.kind == fails, c.fargate.kind == fails, "case %s fails on one method only", c.name)
		assert.True(t, c.change != "" || c.ec2.kind == fails, "case %s has no change file", c.name)
	}
	sort.Strings(listed)
	assert.Equal(t, dirs, listed)
	assert.GreaterOrEqual(t, len(cases), 30)
}

// TestDifferencesDocumented: every documented difference is in
// docs/FARGATE.md's list, by its ID.
func TestDifferencesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "FARGATE.md"))
	require.NoError(t, err)
	text := string(data)
	i := strings.Index(text, "## Differences from docker build on fargate")
	require.GreaterOrEqual(t, i, 0, "docs/FARGATE.md has no section \"Differences from docker build on fargate\"")
	section := text[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	for _, d := range Differences {
		assert.Contains(t, section, "`"+d.ID+"`", "docs/FARGATE.md does not list %s", d.ID)
	}
}
