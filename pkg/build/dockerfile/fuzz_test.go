package dockerfile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// seeds are tricky Dockerfiles: tabs, continuations, heredocs, the escape
// directive, JSON forms, numeric --from, ARGs before FROM.
var seeds = []string{
	sample,
	"FROM\tbusybox\tAS\tb\nCOPY\t--chown=1:1\ta \\\n# c\n  b /dst/\n",
	"FROM busybox\nRUN <<EOF\nFROM evil\nEOF\nCOPY <<A <<B /d/\na\nA\nb\nB\n",
	"# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY c:\\d\\ /x\n",
	"FROM busybox\nFROM busybox\nCOPY --from=0 /a /a\nRUN --mount=type=bind,from=0,target=/s true\n",
	"ARG REG=docker.io\nARG IMG=${REG}/busybox\nFROM $IMG AS a\nFROM a\nCOPY [\"x y\", \"/z\"]\n",
	"FROM a AS B\nFROM b\nONBUILD RUN x\nHEALTHCHECK CMD true\nENV A=1 B=\"2 3\"\nLABEL a=b \\\n  c=d\n",
	"FROM a\nRUN <<-EOT bash\n\techo\n\tEOT\n",
	"\ufeffFROM a\n\n\\\n\nRUN x\n",
	"FROM a\n# check=skip=all\nRUN x\n",
	"FROM a AS b\nFROM a\nCOPY\t--chown=1 \\\n  --from=0 \\\n  /a /b\nCOPY --from=b --from=0 /c /d\n",
}

// FuzzParse: Parse never panics, and where BuildKit's parser and its
// instruction parser accept the input, the model has the same stages (names,
// bases, instruction counts) and global ARGs as instructions.Parse.
func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		model, err := Parse(data)
		res, perr := parser.Parse(bytes.NewReader(data))
		if perr != nil {
			if err == nil {
				t.Fatalf("BuildKit's parser fails (%v), the model does not", perr)
			}
			return
		}
		stages, metaArgs, ierr := instructions.Parse(res.AST, linter.New(&linter.Config{}))
		if ierr != nil {
			if err == nil {
				t.Fatalf("instructions.Parse fails (%v), the model does not", ierr)
			}
			return
		}
		if err != nil {
			t.Fatalf("BuildKit accepts it, the model fails: %v", err)
		}
		if len(model.Stages) != len(stages) || len(model.Globals) != len(metaArgs) {
			t.Fatalf("model: %d stages, %d globals; BuildKit: %d, %d", len(model.Stages), len(model.Globals), len(stages), len(metaArgs))
		}
		for i, s := range stages {
			m := model.Stages[i]
			if m.Name != s.Name || m.Base != s.BaseName || len(m.Instructions) != len(s.Commands) {
				t.Fatalf("stage %d: model %q from %q with %d instructions; BuildKit %q from %q with %d", i,
					m.Name, m.Base, len(m.Instructions), s.Name, s.BaseName, len(s.Commands))
			}
			for j, c := range s.Commands {
				if m.Instructions[j].Command != strings.ToLower(c.Name()) {
					t.Fatalf("stage %d instruction %d: %s, BuildKit %s", i, j, m.Instructions[j].Command, c.Name())
				}
			}
		}
		checkRewrites(t, model)
		// What the rest of the build asks of the model must not panic either.
		for _, target := range []string{"", "development", "0"} {
			model.Needed(target)
		}
		for i := range model.Stages {
			model.Chain(i)
		}
		model.Bases([]string{"A=1"})
	})
}

// checkRewrites: wherever SetCopyFrom rewrites a --from, the result differs
// from the input only in that value, and BuildKit parses it to the same
// stages and instruction counts.
func checkRewrites(t *testing.T, model *File) {
	for s, st := range model.Stages {
		for k, ins := range st.Instructions {
			if ins.CopyFrom() == "" {
				continue
			}
			out, err := model.SetCopyFrom(s, k, "renamed")
			if err != nil {
				continue
			}
			if !onlyOneSpan(model.Source, out, len(ins.CopyFrom()), len("renamed")) {
				t.Fatalf("the rewrite changed more than the --from value:\n%q\n%q", model.Source, out)
			}
			res, err := parser.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("the rewrite does not parse: %v", err)
			}
			stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
			if err != nil || len(stages) != len(model.Stages) {
				t.Fatalf("the rewrite parses to other stages (%v)", err)
			}
			for i, bs := range stages {
				if len(bs.Commands) != len(model.Stages[i].Instructions) || bs.Name != model.Stages[i].Name {
					t.Fatalf("stage %d of the rewrite differs", i)
				}
			}
			c, ok := stages[s].Commands[k].(*instructions.CopyCommand)
			if !ok || c.From != "renamed" {
				t.Fatalf("the rewrite did not set --from")
			}
		}
	}
}

// onlyOneSpan reports whether a and b differ in one span at most n bytes
// long in a and m bytes long in b.
func onlyOneSpan(a, b []byte, n, m int) bool {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	return len(a)-p-q <= n && len(b)-p-q <= m
}
