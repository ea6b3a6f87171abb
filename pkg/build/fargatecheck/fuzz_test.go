package fargatecheck

import (
	"testing"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// FuzzCheck: the check never panics on a Dockerfile BuildKit accepts, and
// every finding names a line of the file.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"FROM busybox AS b\nUSER 1000\nRUN ln /a /b && chmod 4755 /a\nFROM scratch\nCOPY --chown=1 --from=b / /\n",
		"FROM busybox\nRUN --mount=type=cache,target=/c <<EOF\nx\nEOF\nCOPY link.txt links/ /x/\n",
		"ARG B=scratch\nFROM $B AS s\nFROM s\nCOPY --from=0 /bin /bin\nCOPY --from=nginx:1 /x /y\n",
		"# escape=`\nFROM busybox\nCOPY [\"a b\", \"*\", \"/d/\"]\n",
		"FROM busybox AS b\nFROM busybox\nCOPY \\\n --from=0 /o /o\nCOPY --from=0 --chown=1 /p /p\n",
	} {
		f.Add([]byte(s))
	}
	ctx := context(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := dockerfile.Parse(data)
		if err != nil {
			return
		}
		lines := 1
		for _, b := range data {
			if b == '\n' {
				lines++
			}
		}
		for _, target := range []string{"", "development"} {
			res := Check(Input{File: file, Dockerfile: "Dockerfile", Context: ctx, Target: target})
			for _, x := range res.Findings {
				if x.Line < 1 || x.Line > lines {
					t.Fatalf("%s on line %d of a %d-line file", x.Kind, x.Line, lines)
				}
			}
			_ = res.Err()
			if res.Dockerfile != nil {
				again, err := dockerfile.Parse(res.Dockerfile)
				if err != nil || len(again.Stages) != len(file.Stages) {
					t.Fatalf("the rewrite does not parse to the same stages: %v", err)
				}
				for i, s := range file.Stages {
					if len(again.Stages[i].Instructions) != len(s.Instructions) || again.Stages[i].Name != s.Name {
						t.Fatalf("stage %d of the rewrite differs", i)
					}
				}
			}
		}
	})
}
