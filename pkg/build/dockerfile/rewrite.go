package dockerfile

import (
	"bytes"
	"fmt"
	"slices"
)

// SetCopyFrom is the file's source with the --from of instruction k of
// stage s (a COPY) set to value, and every other byte as written. It fails
// when that cannot be done exactly: the flag is written quoted or escaped,
// or its text is not found once; and it checks its own result, so what it
// returns parses to the same stages and instructions, that one flag aside.
func (f *File) SetCopyFrom(s, k int, value string) ([]byte, error) {
	if s < 0 || s >= len(f.Stages) || k < 0 || k >= len(f.Stages[s].Instructions) {
		return nil, fmt.Errorf("no instruction %d in stage %d", k, s)
	}
	ins := f.Stages[s].Instructions[k]
	old := ins.CopyFrom()
	if ins.Command != "copy" || old == "" {
		return nil, fmt.Errorf("line %d: not a COPY --from", ins.Lines.Start)
	}
	n := 0
	for _, fl := range ins.Flags {
		if fl.Name == "from" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("line %d: %d --from flags", ins.Lines.Start, n)
	}
	start, end := lineOffsets(f.Source, ins.Lines)
	needle := []byte("--from=" + old)
	at := -1
	for i := start; i < end; {
		j := bytes.Index(f.Source[i:end], needle)
		if j < 0 {
			break
		}
		j += i
		after := j + len(needle)
		if j > start && isBlank(f.Source[j-1]) && after < len(f.Source) && (isBlank(f.Source[after]) || rune(f.Source[after]) == f.Escape) {
			if at >= 0 {
				return nil, fmt.Errorf("line %d: --from=%s is written more than once", ins.Lines.Start, old)
			}
			at = j
		}
		i = j + 1
	}
	if at < 0 {
		return nil, fmt.Errorf("line %d: --from=%s is not written plainly", ins.Lines.Start, old)
	}
	valueAt := at + len("--from=")
	out := slices.Concat(f.Source[:valueAt], []byte(value), f.Source[valueAt+len(old):])
	if err := f.sameBut(out, s, k, value); err != nil {
		return nil, fmt.Errorf("line %d: rewriting --from=%s: %w", ins.Lines.Start, old, err)
	}
	return out, nil
}

// sameBut checks that out parses to f's stages and instructions, with only
// the --from of instruction k of stage s changed to value.
func (f *File) sameBut(out []byte, s, k int, value string) error {
	g, err := Parse(out)
	if err != nil {
		return err
	}
	if len(g.Stages) != len(f.Stages) || len(g.Globals) != len(f.Globals) || g.Escape != f.Escape {
		return fmt.Errorf("the stages changed")
	}
	for i, a := range f.Stages {
		b := g.Stages[i]
		if a.Name != b.Name || a.Base != b.Base || a.From.Original != b.From.Original || len(a.Instructions) != len(b.Instructions) {
			return fmt.Errorf("stage %d changed", i)
		}
		for j, x := range a.Instructions {
			y := b.Instructions[j]
			if i == s && j == k {
				if y.CopyFrom() != value || !slices.Equal(x.Sources(), y.Sources()) || x.Dest() != y.Dest() ||
					x.Chown() != y.Chown() || len(x.Flags) != len(y.Flags) || x.Lines != y.Lines || len(x.Heredocs) != len(y.Heredocs) {
					return fmt.Errorf("the instruction changed beyond its --from")
				}
				continue
			}
			if x.Original != y.Original || x.Lines != y.Lines || len(x.Heredocs) != len(y.Heredocs) {
				return fmt.Errorf("line %d changed", x.Lines.Start)
			}
		}
	}
	return nil
}

// lineOffsets are the byte offsets of the start of line r.Start and the end
// of line r.End, lines ending at '\n' as BuildKit's scanner reads them.
func lineOffsets(src []byte, r Range) (int, int) {
	start, end, line := -1, len(src), 1
	if r.Start <= 1 {
		start = 0
	}
	for i, c := range src {
		if c != '\n' {
			continue
		}
		line++
		if line == r.Start {
			start = i + 1
		}
		if line == r.End+1 {
			end = i
			break
		}
	}
	if start < 0 {
		start = len(src)
	}
	return start, end
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
