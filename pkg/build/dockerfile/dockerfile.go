// Package dockerfile is the one model of a Dockerfile that the build uses:
// the loop, the cache keys and the fargate check all read it. It is built on
// BuildKit's own parser (frontend/dockerfile/parser) and typed instructions
// (frontend/dockerfile/instructions), so it reads a Dockerfile exactly as
// `docker build` does: continuation lines, the escape directive, heredocs,
// JSON forms, flags and ARGs before FROM. Nothing here splits lines by hand.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// File is a parsed Dockerfile.
type File struct {
	// Escape is the escape character: the `# escape=` directive, else `\`.
	Escape rune
	// Globals are the ARG instructions before the first FROM, in order.
	Globals []Instruction
	// Stages are the FROM blocks, in order.
	Stages []Stage
	// Source is the file as read.
	Source []byte
	// declared are the ARG names the file declares, global and per stage.
	declared map[string]bool
}

// Stage is one FROM block.
type Stage struct {
	// Index is the stage's position, from 0: what `--from=<number>` names.
	Index int
	// Name is the `AS name`, lower case (BuildKit compares names without
	// case); "" when unnamed.
	Name string
	// Base is the image or earlier stage it starts from, as written (ARGs
	// not expanded; see File.Bases for the expanded images).
	Base string
	// Platform is the --platform flag, as written.
	Platform string
	// From is the FROM instruction itself.
	From Instruction
	// Instructions are the stage's instructions after FROM.
	Instructions []Instruction
}

// Range is a span of lines, numbered from 1, both ends included.
type Range struct {
	Start, End int
}

// Flag is one leading `--name=value` (or `--name`) of an instruction.
type Flag struct {
	Name  string
	Value string
	// Raw is the flag as BuildKit's parser returned it (quotes and escapes
	// removed), e.g. `--from=deps`.
	Raw string
}

// Heredoc is a here-document attached to a RUN, COPY or ADD.
type Heredoc = parser.Heredoc

// Mount is one RUN --mount, as BuildKit reads it.
type Mount = instructions.Mount

// Instruction is one instruction with where it is written.
type Instruction struct {
	// Command is the instruction's keyword in lower case: "run", "copy"...
	Command string
	// Lines are the lines it spans in the file: continuation lines, and the
	// bodies of its heredocs, included.
	Lines Range
	// Original is the instruction as BuildKit's parser joined it (comments
	// and continuation characters removed, heredoc bodies not included).
	Original string
	// Flags are its leading flags, in order.
	Flags []Flag
	// Args are its arguments after the flags, as BuildKit splits them
	// (JSON elements, or words), not expanded.
	Args []string
	// JSON is true for the exec (JSON array) form.
	JSON bool
	// Heredocs are its here-documents, with their bodies.
	Heredocs []Heredoc
	// Parsed is BuildKit's typed instruction (*instructions.CopyCommand,
	// *instructions.RunCommand, *instructions.Stage for FROM...).
	Parsed any
}

// Load reads and parses a Dockerfile from disk.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a Dockerfile as BuildKit does; it fails where BuildKit's
// parser or its instruction parser fails, with the line in the error.
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		var loc *parser.LocationError
		if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 && loc.Locations[0][0].Start.Line > 0 {
			return nil, fmt.Errorf("line %d: %w", loc.Locations[0][0].Start.Line, err)
		}
		return nil, err
	}
	return f, nil
}

func parse(data []byte) (*File, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	f := &File{Escape: res.EscapeToken, Source: data, declared: map[string]bool{}}
	// A linter that warns nowhere: with none, BuildKit dereferences a nil
	// linter for a `# check=` comment above an instruction.
	lint := linter.New(&linter.Config{})
	for _, node := range res.AST.Children {
		parsed, err := instructions.ParseInstructionWithLinter(node, lint)
		if err != nil {
			return nil, err
		}
		ins := newInstruction(node, parsed)
		if a, ok := parsed.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				f.declared[kv.Key] = true
			}
			if len(f.Stages) == 0 {
				f.Globals = append(f.Globals, ins)
				continue
			}
		}
		switch c := parsed.(type) {
		case *instructions.Stage:
			f.Stages = append(f.Stages, Stage{Index: len(f.Stages), Name: c.Name, Base: c.BaseName, Platform: c.Platform, From: ins})
		case instructions.Command:
			if len(f.Stages) == 0 {
				return nil, parser.WithLocation(fmt.Errorf("%s before the first FROM", strings.ToUpper(ins.Command)), node.Location())
			}
			s := &f.Stages[len(f.Stages)-1]
			s.Instructions = append(s.Instructions, ins)
		default:
			return nil, parser.WithLocation(fmt.Errorf("%T is not a command type", parsed), node.Location())
		}
	}
	return f, nil
}

func newInstruction(node *parser.Node, parsed any) Instruction {
	ins := Instruction{
		Command:  strings.ToLower(node.Value),
		Lines:    Range{Start: node.StartLine, End: node.EndLine},
		Original: node.Original,
		JSON:     node.Attributes["json"],
		Heredocs: node.Heredocs,
		Parsed:   parsed,
	}
	for _, raw := range node.Flags {
		name, value, _ := strings.Cut(strings.TrimPrefix(raw, "--"), "=")
		ins.Flags = append(ins.Flags, Flag{Name: name, Value: value, Raw: raw})
	}
	for n := node.Next; n != nil; n = n.Next {
		ins.Args = append(ins.Args, n.Value)
	}
	if r, ok := parsed.(*instructions.RunCommand); ok {
		// Without an expander BuildKit reads only a mount's from=; reading
		// the words as written fills in the rest (type, target...). Where
		// that fails (a variable in type=), the mounts stay as read.
		_ = r.Expand(func(word string) (string, error) { return word, nil })
	}
	return ins
}

// Flag is the value of the last flag named name, and whether there is one.
func (i Instruction) Flag(name string) (string, bool) {
	value, found := "", false
	for _, f := range i.Flags {
		if f.Name == name {
			value, found = f.Value, true
		}
	}
	return value, found
}

// CopyFrom is a COPY's --from (a stage name, a stage number or an image),
// "" for any other instruction or a COPY from the context.
func (i Instruction) CopyFrom() string {
	if c, ok := i.Parsed.(*instructions.CopyCommand); ok {
		return c.From
	}
	return ""
}

// Sources are a COPY's or ADD's source paths (or URLs), heredocs left out,
// as written.
func (i Instruction) Sources() []string {
	switch c := i.Parsed.(type) {
	case *instructions.CopyCommand:
		return c.SourcePaths
	case *instructions.AddCommand:
		return c.SourcePaths
	}
	return nil
}

// Dest is a COPY's or ADD's destination, as written.
func (i Instruction) Dest() string {
	switch c := i.Parsed.(type) {
	case *instructions.CopyCommand:
		return c.DestPath
	case *instructions.AddCommand:
		return c.DestPath
	}
	return ""
}

// Chown is a COPY's or ADD's --chown, "" when none.
func (i Instruction) Chown() string {
	switch c := i.Parsed.(type) {
	case *instructions.CopyCommand:
		return c.Chown
	case *instructions.AddCommand:
		return c.Chown
	}
	return ""
}

// Mounts are a RUN's --mount flags, as BuildKit reads them.
func (i Instruction) Mounts() []*Mount {
	if r, ok := i.Parsed.(*instructions.RunCommand); ok {
		return instructions.GetMounts(r)
	}
	return nil
}
