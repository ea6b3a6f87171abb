package build

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/convox/rack/pkg/build/engine"
)

// faultWatch notices output lines where the cache repository errored: a line
// naming the cache repository with an error in it, or a BuildKit `#N ERROR`
// line for a step `#N` that named the cache repository earlier. Kaniko says
// only "No cached layer found" whether a layer is missing or the registry
// failed, so when check is set the watch reads that cache ref again itself.
type faultWatch struct {
	mu    sync.Mutex
	repo  string          // host/name of the cache repository
	api   string          // host/v2/name/, how registry URLs name it
	steps map[string]bool // BuildKit steps that named the cache repository
	part  []byte
	fault string
	// readFault is a miss kaniko's registry did not answer as "not there":
	// it explains the misses, so it is the fault reported, whatever came first.
	readFault string

	check    func(ref string) error // reads a cache ref kaniko missed; nil: no checks
	checking string                 // the cache ref kaniko said it was looking up
	checks   sync.WaitGroup
}

// Kaniko's lines around a cache lookup.
const (
	kanikoChecking = "Checking for cached layer "
	kanikoMissed   = "No cached layer found for cmd"
)

// colour is a terminal colour code, as kaniko puts around its log level.
var colour = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func newFaultWatch(repo string) *faultWatch {
	repo = strings.TrimSpace(repo)
	w := &faultWatch{steps: map[string]bool{}}
	if host := engine.RefHost(repo + "/"); host != "" {
		w.repo = repo
		w.api = host + "/v2/" + strings.TrimPrefix(repo, host+"/") + "/"
	}
	return w
}

func (w *faultWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.repo == "" || w.fault != "" {
		return len(p), nil
	}
	w.part = append(w.part, p...)
	for w.fault == "" {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		w.line(colour.ReplaceAllString(strings.TrimRight(string(w.part[:i]), "\r"), ""))
		w.part = w.part[i+1:]
	}
	if len(w.part) > 1<<20 {
		w.part = w.part[:0]
	}
	return len(p), nil
}

// line checks one whole output line.
func (w *faultWatch) line(line string) {
	lower := strings.ToLower(line)
	step := buildkitStepID(line)
	mentions := w.mentions(line)
	if _, ref, ok := strings.Cut(line, kanikoChecking); ok && mentions {
		w.checking = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(ref), "..."))
		return
	}
	if strings.Contains(line, kanikoMissed) && w.checking != "" && w.check != nil {
		w.checkMiss(w.checking)
		w.checking = ""
		return
	}
	if mentions && step != "" {
		w.steps[step] = true
	}
	if strings.HasSuffix(lower, ": not found") {
		// no cache ref yet (first build, or the cache was just emptied): a cold cache, not a fault
		return
	}
	stepError := step != "" && w.steps[step] && strings.HasPrefix(line, "#"+step+" ERROR")
	if stepError || (mentions && looksFaulty(lower)) {
		w.fault = strings.TrimSpace(line)
		if len(w.fault) > 300 {
			w.fault = w.fault[:300] + "…"
		}
	}
}

// mentions reports whether line names the cache repository itself (not
// another repository of the same registry, nor one whose name extends it).
func (w *faultWatch) mentions(line string) bool {
	if strings.Contains(line, w.api) {
		return true
	}
	for rest := line; ; {
		i := strings.Index(rest, w.repo)
		if i < 0 {
			return false
		}
		rest = rest[i+len(w.repo):]
		if rest == "" || strings.ContainsRune(":@/\"' ,;)", rune(rest[0])) {
			return true
		}
	}
}

// looksFaulty reports whether a lower-cased line tells of an error.
func looksFaulty(lower string) bool {
	for _, s := range []string{"error", "fail", "refused", " 500", "timeout", "unauthorized"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// buildkitStepID is N of a BuildKit `--progress=plain` line "#N ...", or "".
func buildkitStepID(line string) string {
	if !strings.HasPrefix(line, "#") {
		return ""
	}
	end := 1
	for end < len(line) && line[end] >= '0' && line[end] <= '9' {
		end++
	}
	if end == 1 || end == len(line) || line[end] != ' ' {
		return ""
	}
	return line[1:end]
}

// checkMiss reads ref again in the background: a registry answer other
// than "not there" is a fault, not a miss.
func (w *faultWatch) checkMiss(ref string) {
	w.checks.Add(1)
	go func() {
		defer w.checks.Done()
		err := w.check(ref)
		if err == nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.readFault == "" {
			w.readFault = fmt.Sprintf("kaniko could not read %s: %v", ref, err)
		}
	}()
}

// Fault is the first read kaniko missed through a fault, else the first
// fault seen, once every check of a kaniko miss is done.
func (w *faultWatch) Fault() string {
	w.checks.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.readFault != "" {
		return w.readFault
	}
	return w.fault
}
