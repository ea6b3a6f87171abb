// Package dockerfile reads what the build loop needs from a Dockerfile: its
// stages, the ARGs it declares and the base images it pulls.
package dockerfile

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strings"
)

// Stage is one FROM block.
type Stage struct {
	// Name is the `AS name`, "" when unnamed.
	Name string
	// From is the image or earlier stage it starts from, as written.
	From string
	// Lines are the stage's instructions after FROM, one logical line each.
	Lines []string
}

// File is the parsed Dockerfile.
type File struct {
	Stages []Stage
	// Args are the declared ARG names, global and per stage.
	Args map[string]bool
	// Preamble are the instructions before the first FROM (global ARGs, parser directives aside).
	Preamble []string
	// globals are ARGs before the first FROM with their defaults.
	globals map[string]string
}

// Load reads and parses a Dockerfile from disk.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data), nil
}

// Parse reads instructions, joining continuation lines and skipping comments.
func Parse(data []byte) *File {
	f := &File{Args: map[string]bool{}, globals: map[string]string{}}
	for _, line := range logicalLines(data) {
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "FROM":
			f.Stages = append(f.Stages, parseFrom(rest))
		default:
			if n := len(f.Stages); n > 0 {
				f.Stages[n-1].Lines = append(f.Stages[n-1].Lines, line)
			} else {
				f.Preamble = append(f.Preamble, line)
			}
		}
		switch strings.ToUpper(word) {
		case "ARG":
			for _, decl := range strings.Fields(rest) {
				name, def, _ := strings.Cut(decl, "=")
				f.Args[name] = true
				if len(f.Stages) == 0 {
					f.globals[name] = strings.Trim(def, `"'`)
				}
			}
		}
	}
	return f
}

// Lines are the Dockerfile's instructions, continuation lines joined and
// comments left out.
func Lines(data []byte) []string { return logicalLines(data) }

func logicalLines(data []byte) []string {
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() > 0) {
			continue
		}
		if trimmed, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(trimmed + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		lines = append(lines, s)
	}
	return lines
}

func parseFrom(rest string) Stage {
	var words []string
	for _, w := range strings.Fields(rest) {
		if !strings.HasPrefix(w, "--") {
			words = append(words, w)
		}
	}
	var s Stage
	if len(words) > 0 {
		s.From = words[0]
	}
	if len(words) >= 3 && strings.EqualFold(words[1], "AS") {
		s.Name = strings.ToLower(words[2])
	}
	return s
}

// HasStage reports whether a stage is named name.
func (f *File) HasStage(name string) bool {
	for _, s := range f.Stages {
		if s.Name == strings.ToLower(name) {
			return true
		}
	}
	return false
}

// FilterArgs keeps the NAME=value args whose NAME the Dockerfile declares.
func (f *File) FilterArgs(args []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if f.Args[name] {
			out = append(out, a)
		}
	}
	return out
}

var variable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// Bases are the external images the stages start from (not earlier stages,
// not scratch), with global ARGs substituted from args then defaults.
func (f *File) Bases(args []string) []string {
	values := map[string]string{}
	for k, v := range f.globals {
		values[k] = v
	}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			values[k] = v
		}
	}
	stages := map[string]bool{}
	seen := map[string]bool{}
	var bases []string
	for _, s := range f.Stages {
		from := variable.ReplaceAllStringFunc(s.From, func(v string) string {
			return values[variable.FindStringSubmatch(v)[1]]
		})
		lower := strings.ToLower(from)
		if from != "" && lower != "scratch" && !stages[lower] && !seen[from] {
			seen[from] = true
			bases = append(bases, from)
		}
		if s.Name != "" {
			stages[s.Name] = true
		}
	}
	return bases
}
