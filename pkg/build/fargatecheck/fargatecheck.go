// Package fargatecheck finds, before any build work, what kaniko (the
// fargate method's builder) cannot build as `docker build` does. Kaniko's
// upstream is archived, so its gaps are ours: a construct kaniko fails on or
// silently ignores is refused up front with the file, the line and the
// construct; a construct whose image differs from docker's in a way no
// driving of kaniko can fix gets a WARNING naming the line. It reads the
// Dockerfile through the one model (pkg/build/dockerfile) and the build
// context on disk.
package fargatecheck

import (
	"fmt"
	"strings"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// Severity is what the build does with a finding.
type Severity int

const (
	// Refuse fails the build before any work.
	Refuse Severity = iota + 1
	// Warn prints a WARNING line in the build log and builds.
	Warn
	// Rewritten: kaniko is given the line rewritten so that it builds it as
	// docker does (Result.Dockerfile); the log says so.
	Rewritten
)

func (s Severity) String() string {
	switch s {
	case Refuse:
		return "refuse"
	case Rewritten:
		return "rewritten"
	}
	return "warn"
}

// Kind is one construct kaniko does not build as docker build does.
type Kind string

// Refused kinds.
const (
	RunMount      Kind = "run-mount"
	Heredoc       Kind = "heredoc"
	CopyRoot      Kind = "copy-root"
	SymlinkSource Kind = "symlink-source"
	NumericFrom   Kind = "numeric-from"
)

// Warned kinds.
const (
	SetuidBits     Kind = "setuid-bits"
	ChownDirMode   Kind = "chown-dir-mode"
	HardLinks      Kind = "hard-links"
	StageUserOwner Kind = "stage-user-owner"
	ImageSymlink   Kind = "image-symlink"
	ScratchWorkdir Kind = "scratch-workdir"
)

// Rule is what the check knows of a kind: what the build does and why.
type Rule struct {
	Kind     Kind
	Severity Severity
	// Construct is the Dockerfile construct, as a user would search for it.
	Construct string
	// Reason is what kaniko does with it.
	Reason string
}

// Rules are every kind, in the order docs/ARCHITECTURE.md lists them.
var Rules = []Rule{
	{RunMount, Refuse, "RUN --mount", "kaniko ignores --mount (every type) and runs the command without it"},
	{Heredoc, Refuse, "heredoc (RUN <<EOF, COPY <<EOF)", "kaniko fails on heredocs (`resolved envs is empty`)"},
	{CopyRoot, Refuse, "COPY --from=<stage> / (the root)", "kaniko reads /proc/1/attr/current and fails"},
	{SymlinkSource, Refuse, "COPY/ADD of a context path that is or passes through a symlink", "kaniko fails on a symlinked source"},
	{NumericFrom, Refuse, "COPY --from=<number> of an unnamed stage", "kaniko fails on a stage named by its number; name the stage (FROM ... AS name) and copy --from=name (a named stage's number is rewritten to its name)"},
	{SetuidBits, Warn, "COPY --from of files with setuid or setgid bits", "kaniko drops the setuid and setgid bits"},
	{ChownDirMode, Warn, "COPY/ADD --chown of a directory", "kaniko gives the copied directory mode 0700"},
	{HardLinks, Warn, "COPY/ADD of hard-linked files", "kaniko copies each link as a separate file"},
	{StageUserOwner, Warn, "COPY --from=<stage> whose USER is not root, without --chown", "kaniko makes the copied files owned by that USER (docker: root)"},
	{ImageSymlink, Warn, "COPY --from=<image>", "kaniko copies a symlinked source as the link, not the file it points to"},
	{ScratchWorkdir, Warn, "a final stage FROM scratch with no WORKDIR", "kaniko leaves the image's WorkingDir null (docker: /)"},
}

// Rule is the rule of kind k.
func (k Kind) Rule() Rule {
	for _, r := range Rules {
		if r.Kind == k {
			return r
		}
	}
	return Rule{Kind: k, Severity: Warn, Construct: string(k)}
}

// Finding is one construct on one line of one Dockerfile.
type Finding struct {
	Kind     Kind
	Severity Severity
	// Dockerfile is the file as the user names it (relative to the source).
	Dockerfile string
	// Line is the line the instruction starts on, from 1.
	Line int
	// Detail is what on that line: the instruction or the path.
	Detail string
}

// String is the finding as one log line, without the WARNING: prefix.
func (f Finding) String() string {
	r := f.Kind.Rule()
	return fmt.Sprintf("%s:%d: %s: %s", f.Dockerfile, f.Line, f.Detail, r.Reason)
}

// Result is every finding of a check, in Dockerfile order.
type Result struct {
	Findings []Finding
	// Dockerfile is the file to give kaniko instead of the original when a
	// line is rewritten (severity Rewritten), nil when none is: the original
	// with only those --from values changed.
	Dockerfile []byte
}

// Rewrites are the findings the build rewrites for kaniko.
func (r Result) Rewrites() []Finding { return r.with(Rewritten) }

// Refusals are the findings that fail the build.
func (r Result) Refusals() []Finding { return r.with(Refuse) }

// Warnings are the findings the build log warns about.
func (r Result) Warnings() []Finding { return r.with(Warn) }

func (r Result) with(s Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == s {
			out = append(out, f)
		}
	}
	return out
}

// Err is a *RefusedError when anything is refused, else nil.
func (r Result) Err() error {
	if refused := r.Refusals(); len(refused) > 0 {
		return &RefusedError{Refusals: refused}
	}
	return nil
}

// Suggestion is what a refused build tells the user to do.
const Suggestion = "convox rack params set BuildMethod=ec2"

// RefusedError fails a fargate build that kaniko cannot build as docker does.
type RefusedError struct {
	Refusals []Finding
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("the fargate build method (kaniko) cannot build this as docker build does:")
	for _, f := range e.Refusals {
		b.WriteString("\n  " + f.String())
	}
	b.WriteString("\nbuild with the ec2 method instead: " + Suggestion)
	return b.String()
}

// Input is one Dockerfile to check.
type Input struct {
	File *dockerfile.File
	// Dockerfile names the file in messages (relative to the source).
	Dockerfile string
	// Context is the build context directory on disk.
	Context string
	// Target is the stage built ("" the last one).
	Target string
	// Args are the build args (NAME=value), for ARGs in FROM lines.
	Args []string
}

// Check finds what kaniko builds differently in the stages a build of the
// target needs (kaniko skips the others).
func Check(in Input) Result {
	c := &checker{in: in, f: in.File, renames: map[int]rename{}}
	for _, i := range in.File.Needed(in.Target) {
		for k, ins := range in.File.Stages[i].Instructions {
			c.instruction(i, k, ins)
		}
	}
	c.scratchWorkdir()
	return Result{Findings: c.found, Dockerfile: c.rewrite()}
}

type checker struct {
	in    Input
	f     *dockerfile.File
	found []Finding
	// renames are the numeric --from of named stages, by finding index.
	renames map[int]rename
}

// rename is a COPY --from=<number> (instruction k of stage s) of a named stage.
type rename struct {
	s, k int
	name string
}

// rewrite gives each numeric --from of a named stage the stage's name, one
// at a time; a finding whose rewrite is not exact stays refused. It is the
// new source, nil when nothing was rewritten.
func (c *checker) rewrite() []byte {
	f, changed := c.f, false
	for i := range c.found {
		r, ok := c.renames[i]
		if !ok {
			continue
		}
		out, err := f.SetCopyFrom(r.s, r.k, r.name)
		if err != nil {
			continue
		}
		next, err := dockerfile.Parse(out)
		if err != nil {
			continue
		}
		f, changed = next, true
		c.found[i].Severity = Rewritten
		c.found[i].Detail += " (given to kaniko as --from=" + r.name + ")"
	}
	if !changed {
		return nil
	}
	return f.Source
}

func (c *checker) add(k Kind, ins dockerfile.Instruction, detail string) {
	c.found = append(c.found, Finding{Kind: k, Severity: k.Rule().Severity, Dockerfile: c.in.Dockerfile, Line: ins.Lines.Start, Detail: detail})
}

func (c *checker) instruction(stage, k int, ins dockerfile.Instruction) {
	switch ins.Command {
	case "run":
		for _, fl := range ins.Flags {
			if fl.Name == "mount" {
				c.add(RunMount, ins, "RUN "+fl.Raw)
				break
			}
		}
		if len(ins.Heredocs) > 0 {
			c.add(Heredoc, ins, "RUN <<"+ins.Heredocs[0].Name)
		}
	case "copy", "add":
		word := strings.ToUpper(ins.Command)
		if len(ins.Heredocs) > 0 {
			c.add(Heredoc, ins, word+" <<"+ins.Heredocs[0].Name)
		}
		if from := ins.CopyFrom(); from != "" {
			c.copyFrom(stage, k, ins, from)
			return
		}
		c.copyContext(ins, word)
	}
}

// scratchWorkdir warns when the target's stage chain starts from scratch
// and never sets WORKDIR.
func (c *checker) scratchWorkdir() {
	t := c.f.Target(c.in.Target)
	if t < 0 {
		return
	}
	chain := c.f.Chain(t)
	root := c.f.Stages[chain[0]]
	if !strings.EqualFold(c.f.Expand(root.Base, c.f.GlobalArgs(c.in.Args)), "scratch") {
		return
	}
	for _, i := range chain {
		for _, ins := range c.f.Stages[i].Instructions {
			if ins.Command == "workdir" {
				return
			}
		}
	}
	c.add(ScratchWorkdir, c.f.Stages[t].From, "FROM scratch")
}
