package engine

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// stagePlan splits a multi-stage kaniko build. Kaniko unpacks every stage
// another stage copies from, even when all of its steps come from the
// cache: a warm build of `FROM debian AS builder ... COPY --from=builder`
// unpacks all of debian to copy one file. The plan builds each stage the
// target copies from as its own cached target, keeps only the paths the
// target copies out of it, and builds the target from a Dockerfile whose
// source stages are those small images.
type stagePlan struct {
	globals []string    // instructions before the first FROM
	stages  []planStage // every stage, in order
	target  int         // index of the stage to build
	// sources are the stages the target copies from, with the absolute
	// paths it copies out of each
	sources map[int][]string
}

type planStage struct {
	name  string   // `AS name`, lower case, "" when unnamed
	lines []string // the FROM line and the stage's instructions
}

// copyFlags are the COPY flags a split build keeps as they are.
var copyFlags = map[string]bool{"--from": true, "--chown": true, "--chmod": true, "--link": true}

// planStages returns the plan for building target ("" for the last stage)
// out of the Dockerfile data, or nil when splitting cannot help or might
// change the image: a single stage, a target based on another stage, a
// source path with a variable or a wildcard, heredocs, an escape directive,
// a RUN that mounts a stage.
func planStages(data []byte, target string) *stagePlan {
	text := string(data)
	if strings.Contains(text, "<<") || strings.Contains(strings.ToLower(text), "escape=") {
		return nil
	}
	p := &stagePlan{sources: map[int][]string{}}
	for _, line := range dockerfile.Lines(data) {
		word, _, _ := strings.Cut(line, " ")
		if strings.EqualFold(word, "FROM") {
			p.stages = append(p.stages, planStage{name: fromName(line), lines: []string{line}})
			continue
		}
		if len(p.stages) == 0 {
			p.globals = append(p.globals, line)
			continue
		}
		s := &p.stages[len(p.stages)-1]
		s.lines = append(s.lines, line)
	}
	if len(p.stages) < 2 {
		return nil
	}
	p.target = len(p.stages) - 1
	if target != "" {
		if p.target = p.stageIndex(target, len(p.stages)); p.target < 0 {
			return nil
		}
	}
	t := p.stages[p.target]
	if p.stageIndex(fromBase(t.lines[0]), p.target) >= 0 {
		return nil
	}
	for _, line := range t.lines[1:] {
		word, rest, _ := strings.Cut(line, " ")
		upper := strings.ToUpper(word)
		if upper != "COPY" {
			if strings.Contains(strings.ToLower(rest), "from=") {
				return nil // RUN --mount=from=stage, ADD --from: needs the whole stage
			}
			continue
		}
		from, srcs, ok := copySources(rest)
		if !ok {
			return nil
		}
		if from == "" {
			continue
		}
		j := p.stageIndex(from, p.target)
		if j < 0 {
			if strings.ContainsAny(from, "$") {
				return nil
			}
			continue // an image, which kaniko pulls itself
		}
		p.sources[j] = append(p.sources[j], srcs...)
	}
	if len(p.sources) == 0 {
		return nil
	}
	return p
}

// stageIndex is the index, below limit, of the stage a --from, --target or
// FROM names (by name or number), -1 when none.
func (p *stagePlan) stageIndex(ref string, limit int) int {
	ref = strings.ToLower(ref)
	for i := 0; i < limit && i < len(p.stages); i++ {
		if p.stages[i].name != "" && p.stages[i].name == ref {
			return i
		}
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < limit {
		return n
	}
	return -1
}

// targetOf is how kaniko's --target names stage i.
func (p *stagePlan) targetOf(i int) string {
	if p.stages[i].name != "" {
		return p.stages[i].name
	}
	return strconv.Itoa(i)
}

// rewrite is the Dockerfile with each source stage replaced by the image
// that holds its copied paths (stage index -> image reference).
func (p *stagePlan) rewrite(images map[int]string) []byte {
	var b strings.Builder
	for _, l := range p.globals {
		b.WriteString(l + "\n")
	}
	for i, s := range p.stages {
		if ref, ok := images[i]; ok {
			name := s.name
			if name == "" {
				name = "convox-stage-" + strconv.Itoa(i)
			}
			b.WriteString("FROM " + ref + " AS " + name + "\n")
			continue
		}
		for _, l := range s.lines {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// fromName is the `AS name` of a FROM line, lower case.
func fromName(line string) string {
	words := nonFlags(strings.Fields(line)[1:])
	if len(words) >= 3 && strings.EqualFold(words[1], "AS") {
		return strings.ToLower(words[2])
	}
	return ""
}

// fromBase is the image or stage a FROM line starts from.
func fromBase(line string) string {
	if words := nonFlags(strings.Fields(line)[1:]); len(words) > 0 {
		return words[0]
	}
	return ""
}

func nonFlags(words []string) []string {
	var out []string
	for _, w := range words {
		if !strings.HasPrefix(w, "--") {
			out = append(out, w)
		}
	}
	return out
}

// copySources reads a COPY's --from and its sources as absolute, cleaned
// paths; ok is false when a source is not a plain path (a variable, a
// wildcard) or a flag is one a split build does not know.
func copySources(rest string) (from string, srcs []string, ok bool) {
	words := strings.Fields(rest)
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		flag, value, _ := strings.Cut(words[0], "=")
		if !copyFlags[strings.ToLower(flag)] {
			return "", nil, false
		}
		if strings.EqualFold(flag, "--from") {
			from = value
		}
		words = words[1:]
	}
	args := words
	if joined := strings.Join(words, " "); strings.HasPrefix(joined, "[") {
		if err := json.Unmarshal([]byte(joined), &args); err != nil {
			return "", nil, false
		}
	}
	if len(args) < 2 {
		return "", nil, false
	}
	for _, s := range args[:len(args)-1] {
		if s == "" || strings.ContainsAny(s, "$*?[\\") {
			return "", nil, false
		}
		srcs = append(srcs, path.Clean("/"+s))
	}
	return from, srcs, true
}
