package yamlnode

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problems collects every problem of one file so a user sees them all at
// once, each as "file: scope: message (line N)".
type Problems struct {
	File string
	list []string
}

// Add records a problem; scope names the service and field ("" for the
// top level) and line is the 1-based line, 0 when unknown.
func (p *Problems) Add(scope string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		msg += fmt.Sprintf(" (line %d)", line)
	}
	p.list = append(p.list, p.prefix(scope)+msg)
}

// Unknown records a field that scope does not allow, suggesting a fix.
func (p *Problems) Unknown(scope string, f Pair, allowed []string) {
	p.list = append(p.list, p.prefix(scope)+Unknown(f.Key, f.Line, allowed))
}

// Field records err, if any, as a problem of field f.
func (p *Problems) Field(scope string, f Pair, err error) {
	if err != nil {
		p.Add(scope, f.Line, "%s: %v", f.Key, err)
	}
}

// Text reads field f as text, recording a problem when it is not.
func (p *Problems) Text(scope string, f Pair) string {
	v, err := String(f.Value)
	p.Field(scope, f, err)
	return v
}

// Pairs lists a mapping's entries, recording a problem when n is not one.
func (p *Problems) Pairs(scope string, n *yaml.Node) []Pair {
	ps, err := Pairs(n)
	if err != nil {
		p.Add(scope, Line(n), "%v", err)
	}
	return ps
}

// Len is the number of problems so far.
func (p *Problems) Len() int { return len(p.list) }

// Err returns the problems as an *Error, or nil when there are none.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{File: p.File, Problems: append([]string(nil), p.list...)}
}

func (p *Problems) prefix(scope string) string {
	if scope == "" {
		return p.File + ": "
	}
	return p.File + ": " + scope + ": "
}

// Line is the line of a node, 0 when unknown.
func Line(n *yaml.Node) int {
	if n = Resolve(n); n != nil {
		return n.Line
	}
	return 0
}

// Error lists every problem found in one manifest, one per line.
type Error struct {
	File     string
	Problems []string // each already names the file
}

// Error joins the problems.
func (e *Error) Error() string {
	return strings.Join(e.Problems, "\n")
}
