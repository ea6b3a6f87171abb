package yamlnode

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Fields routes each field of a mapping, by key, to the function that reads it;
// its keys are the fields the mapping allows.
type Fields map[string]func(Pair)

// Names lists the allowed fields in order, as messages list them.
func (f Fields) Names() []string {
	return slices.Sorted(maps.Keys(f))
}

// Walk reads pairs in document order with fields and records each key fields
// lacks as unknown, suggesting the closest allowed name.
func (p *Problems) Walk(scope string, pairs []Pair, fields Fields) {
	for _, f := range pairs {
		if read, ok := fields[f.Key]; ok {
			read(f)
		} else {
			p.Unknown(scope, f, fields.Names())
		}
	}
}

// Mapping walks the fields of mapping n; a node that is not a mapping is a problem.
func (p *Problems) Mapping(scope string, n *yaml.Node, fields Fields) {
	p.Walk(scope, p.Pairs(scope, n), fields)
}

// TextInto reads a text field into dst, recording a problem when it is not text.
func (p *Problems) TextInto(scope string, dst *string) func(Pair) {
	return func(f Pair) { *dst = p.Text(scope, f) }
}

// BoolInto reads a true-or-false field into dst, recording a problem when it is not one.
func (p *Problems) BoolInto(scope string, dst *bool) func(Pair) {
	return func(f Pair) {
		v, err := Bool(f.Value)
		p.Field(scope, f, err)
		*dst = v
	}
}

// Each reads every entry of mapping n, in document order, with read: the
// services, resources or timers of a manifest.
func Each[T any](p *Problems, scope string, n *yaml.Node, read func(Pair) T) []T {
	var out []T
	for _, e := range p.Pairs(scope, n) {
		out = append(out, read(e))
	}
	return out
}

// WithoutExtensions drops x- keys, where manifests keep their YAML anchors.
func WithoutExtensions(pairs []Pair) []Pair {
	var out []Pair
	for _, p := range pairs {
		if !strings.HasPrefix(p.Key, "x-") {
			out = append(out, p)
		}
	}
	return out
}

// IsMapping reports whether n is (an alias of) a mapping.
func IsMapping(n *yaml.Node) bool {
	n = Resolve(n)
	return n != nil && n.Kind == yaml.MappingNode
}

// Decode parses one manifest file's data and reads its top node with read;
// when read found no problem, check runs on the result. Errors name p.File;
// empty says what an empty file lacks.
func Decode[T any](p *Problems, data []byte, empty string, read func(*yaml.Node) T, check func(T)) (T, error) {
	var zero T
	top, err := Parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", p.File, err)
	}
	if top == nil {
		return zero, fmt.Errorf("%s: %s", p.File, empty)
	}
	m := read(top)
	if p.Len() == 0 {
		check(m)
	}
	if err := p.Err(); err != nil {
		return zero, err
	}
	return m, nil
}
