package dockerfile

import (
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// HasStage reports whether a stage is named name (without case, as BuildKit).
func (f *File) HasStage(name string) bool {
	for _, s := range f.Stages {
		if s.Name != "" && strings.EqualFold(s.Name, name) {
			return true
		}
	}
	return false
}

// StageIndex is the index, below before, of the stage ref names (a stage
// name without case, or a stage number), -1 when it names none: then it is
// an image.
func (f *File) StageIndex(ref string, before int) int {
	ref = strings.TrimSpace(ref)
	if i := f.stageNamed(ref, before); i >= 0 {
		return i
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < before && n < len(f.Stages) {
		return n
	}
	return -1
}

// stageNamed is the index, below before, of the stage named name (without
// case), -1 when none: FROM and --target name stages by name only.
func (f *File) stageNamed(name string, before int) int {
	for i := 0; i < before && i < len(f.Stages); i++ {
		if f.Stages[i].Name != "" && strings.EqualFold(f.Stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// Target is the index of the stage a build of target builds ("" is the
// last stage), -1 when there is no such stage.
func (f *File) Target(target string) int {
	if target == "" {
		return len(f.Stages) - 1
	}
	return f.stageNamed(target, len(f.Stages))
}

// BaseStage is the index of the earlier stage stage i starts from, -1 when
// it starts from an image or scratch. Its FROM is expanded with the global
// ARGs' defaults, as BuildKit does before it looks the name up.
func (f *File) BaseStage(i int) int {
	if i < 0 || i >= len(f.Stages) {
		return -1
	}
	return f.stageNamed(f.Expand(f.Stages[i].Base, f.GlobalArgs(nil)), i)
}

// StageRefs are the stages and images instruction reads from: a COPY's
// --from and a RUN's --mount from=, as written.
func StageRefs(ins Instruction) []string {
	var refs []string
	if from := ins.CopyFrom(); from != "" {
		refs = append(refs, from)
	}
	for _, m := range ins.Mounts() {
		if m.From != "" {
			refs = append(refs, m.From)
		}
	}
	return refs
}

// Needed are the stages a build of target needs (its base stages and the
// stages it copies or mounts from, recursively), in Dockerfile order.
func (f *File) Needed(target string) []int {
	last := f.Target(target)
	if last < 0 {
		return nil
	}
	want := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if want[i] {
			return
		}
		want[i] = true
		if j := f.BaseStage(i); j >= 0 {
			visit(j)
		}
		for _, ins := range f.Stages[i].Instructions {
			for _, ref := range StageRefs(ins) {
				if j := f.StageIndex(ref, i); j >= 0 {
					visit(j)
				}
			}
		}
	}
	visit(last)
	var out []int
	for i := range f.Stages {
		if want[i] {
			out = append(out, i)
		}
	}
	return out
}

// Chain is stage i and the stages it is built on, the first one built on an
// image (or scratch) first.
func (f *File) Chain(i int) []int {
	var chain []int
	for i >= 0 && i < len(f.Stages) {
		chain = append([]int{i}, chain...)
		i = f.BaseStage(i)
	}
	return chain
}

// Declares reports whether the file declares ARG name, globally or in a stage.
func (f *File) Declares(name string) bool { return f.declared[name] }

// FilterArgs keeps the NAME=value args whose NAME the Dockerfile declares.
func (f *File) FilterArgs(args []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if f.declared[name] {
			out = append(out, a)
		}
	}
	return out
}

// GlobalArgs are the values of the ARGs before the first FROM, as BuildKit
// gives them to FROM lines: each default expanded with the ones before it,
// a build arg (NAME=value) overriding the default. An ARG with neither is
// left out.
func (f *File) GlobalArgs(args []string) map[string]string {
	given := map[string]string{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			given[k] = v
		}
	}
	lex := shell.NewLex(f.Escape)
	values := map[string]string{}
	for _, g := range f.Globals {
		for _, kv := range argPairs(g) {
			if v, ok := given[kv.Key]; ok {
				values[kv.Key] = v
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, _, err := lex.ProcessWord(*kv.Value, envOf(values))
			if err != nil {
				v = *kv.Value
			}
			values[kv.Key] = v
		}
	}
	return values
}

// Expand expands the variables of word with values, as BuildKit does; word
// as written when it does not expand.
func (f *File) Expand(word string, values map[string]string) string {
	out, _, err := shell.NewLex(f.Escape).ProcessWord(word, envOf(values))
	if err != nil {
		return word
	}
	return out
}

// Bases are the external images the stages start from (not earlier stages,
// not scratch), with global ARGs expanded from args then defaults.
func (f *File) Bases(args []string) []string {
	values := f.GlobalArgs(args)
	seen := map[string]bool{}
	var bases []string
	for i, s := range f.Stages {
		from := f.Expand(s.Base, values)
		if from == "" || strings.EqualFold(from, "scratch") || f.stageNamed(from, i) >= 0 || seen[from] {
			continue
		}
		seen[from] = true
		bases = append(bases, from)
	}
	return bases
}

func envOf(values map[string]string) shell.EnvGetter {
	env := make([]string, 0, len(values))
	for k, v := range values {
		env = append(env, k+"="+v)
	}
	return shell.EnvsFromSlice(env)
}

// argPairs are the NAME[=default] pairs of an ARG instruction.
func argPairs(ins Instruction) []instructions.KeyValuePairOptional {
	if a, ok := ins.Parsed.(*instructions.ArgCommand); ok {
		return a.Args
	}
	return nil
}
