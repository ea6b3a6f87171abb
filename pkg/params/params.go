// Package params is the rack parameter catalogue: every parameter's name,
// default, allowed values, group and description in one place, so the CLI,
// the API and the template checks all agree on what a rack accepts.
package params

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Kind says which values a parameter accepts.
type Kind int

const (
	// KindString accepts any text, including the empty string.
	KindString Kind = iota
	// KindEnum accepts exactly one of Param.Allowed (case-sensitive).
	KindEnum
	// KindInt accepts a whole number from Param.Min to Param.Max.
	KindInt
)

// String names the kind for messages and listings.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindEnum:
		return "enum"
	case KindInt:
		return "int"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Param describes one rack parameter.
type Param struct {
	Name        string
	Default     string
	Group       string
	Description string
	Kind        Kind
	Allowed     []string // KindEnum: the accepted values, in display order
	Min, Max    int      // KindInt: the inclusive range
	Secret      bool     // NoEcho in the template; hidden unless --reveal
	Template    bool     // a CloudFormation parameter of provider/aws/formation/rack.json
	Local       bool     // meaningful on the local provider
}

// Check reports whether value is acceptable for p, naming p, the value and
// what is allowed when it is not.
func (p Param) Check(value string) error {
	switch p.Kind {
	case KindEnum:
		if !slices.Contains(p.Allowed, value) {
			return fmt.Errorf("%s must be one of %s, got %q", p.Name, strings.Join(p.Allowed, ", "), value)
		}
	case KindInt:
		n, ok := wholeNumber(value)
		if !ok || n < p.Min || n > p.Max {
			return fmt.Errorf("%s must be a whole number from %d to %d, got %q", p.Name, p.Min, p.Max, value)
		}
	case KindString:
	default:
		return fmt.Errorf("%s has unknown kind %v", p.Name, p.Kind)
	}
	return nil
}

// wholeNumber parses plain decimal digits: no sign, no spaces, no leading
// zeros (so each number has one spelling), no fractions.
func wholeNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// ValidationError lists every problem found in a set of parameter values.
type ValidationError struct {
	Problems []string
}

// Error joins the problems, one per line.
func (e *ValidationError) Error() string {
	return strings.Join(e.Problems, "\n")
}

// All returns the catalogue in its stable order; the result is a copy.
func All() []Param {
	out := make([]Param, len(catalogue))
	for i, p := range catalogue {
		out[i] = clone(p)
	}
	return out
}

// Lookup finds a parameter by its exact name.
func Lookup(name string) (Param, bool) {
	for _, p := range catalogue {
		if p.Name == name {
			return clone(p), true
		}
	}
	return Param{}, false
}

// Validate checks every value and returns a *ValidationError listing all
// problems at once, sorted by parameter name, or nil when all are fine.
func Validate(values map[string]string) error {
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var problems []string
	for _, name := range names {
		p, ok := Lookup(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
			continue
		}
		if err := p.Check(values[name]); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// Defaults returns every parameter's default value by name.
func Defaults() map[string]string {
	out := make(map[string]string, len(catalogue))
	for _, p := range catalogue {
		out[p.Name] = p.Default
	}
	return out
}

// Groups returns the group names in the order they first appear in All.
func Groups() []string {
	var out []string
	for _, p := range catalogue {
		if !slices.Contains(out, p.Group) {
			out = append(out, p.Group)
		}
	}
	return out
}

// InGroup returns the parameters of one group, in catalogue order.
func InGroup(group string) []Param {
	var out []Param
	for _, p := range catalogue {
		if p.Group == group {
			out = append(out, clone(p))
		}
	}
	return out
}

// clone copies p so callers cannot change the catalogue through Allowed.
func clone(p Param) Param {
	p.Allowed = slices.Clone(p.Allowed)
	return p
}
