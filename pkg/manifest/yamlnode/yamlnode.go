// Package yamlnode reads a YAML document node by node, strictly, so manifest
// parsers can name the file, the owner and the field of every problem instead
// of passing on yaml's struct-decoding messages.
package yamlnode

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxMergeDepth bounds nested merge keys ("<<") so hostile input cannot
// make a walk expensive.
const maxMergeDepth = 8

// Parse reads exactly one YAML document and returns its top node, or nil
// when the input holds no document or only comments.
func Parse(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("invalid YAML: %w", err)
		}
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	top := Resolve(doc.Content[0])
	if IsNull(top) {
		return nil, nil
	}
	return top, nil
}

// Resolve follows aliases to the node they name.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxMergeDepth; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is absent or an explicit null (`key:` or `~`).
func IsNull(n *yaml.Node) bool {
	n = Resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Describe names what n is, for messages such as "must be text, got a list".
func Describe(n *yaml.Node) string {
	n = Resolve(n)
	switch {
	case n == nil || IsNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

// Pair is one key and value of a mapping.
type Pair struct {
	Key   string
	Line  int // line of the key, 1-based
	Value *yaml.Node
}

// Pairs lists a mapping's entries in document order with merge keys ("<<")
// expanded; keys written in the mapping win over merged ones. Keys must be
// text and appear once.
func Pairs(n *yaml.Node) ([]Pair, error) {
	return pairs(n, 0)
}

func pairs(n *yaml.Node, depth int) ([]Pair, error) {
	n = Resolve(n)
	if IsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("must be a mapping, got %s", Describe(n))
	}
	if depth > maxMergeDepth {
		return nil, fmt.Errorf("line %d: merge keys nested too deeply", n.Line)
	}
	var own, merged []Pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: keys must be text, got %s", n.Content[i].Line, Describe(k))
		}
		if k.Tag == "!!merge" {
			m, err := mergeSources(v, depth)
			if err != nil {
				return nil, err
			}
			merged = append(merged, m...)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("line %d: %q is repeated (first at line %d)", k.Line, k.Value, line)
		}
		seen[k.Value] = k.Line
		own = append(own, Pair{Key: k.Value, Line: k.Line, Value: v})
	}
	for _, p := range merged {
		if _, dup := seen[p.Key]; !dup {
			seen[p.Key] = p.Line
			own = append(own, p)
		}
	}
	return own, nil
}

// mergeSources expands the value of a merge key: a mapping or a list of them.
func mergeSources(v *yaml.Node, depth int) ([]Pair, error) {
	v = Resolve(v)
	sources := []*yaml.Node{v}
	if v != nil && v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	var out []Pair
	for _, s := range sources {
		ps, err := pairs(s, depth+1)
		if err != nil {
			return nil, fmt.Errorf("merge key: %w", err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

// String reads a scalar as text; numbers and booleans keep their spelling.
func String(n *yaml.Node) (string, error) {
	n = Resolve(n)
	if IsNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("must be text, got %s", Describe(n))
	}
	return n.Value, nil
}

// Int reads a whole number written as a YAML integer or as decimal text.
func Int(n *yaml.Node) (int, error) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || IsNull(n) {
		return 0, fmt.Errorf("must be a whole number, got %s", Describe(n))
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("must be a whole number, got %s", Describe(n))
	}
	return int(v), nil
}

// Bool reads true or false.
func Bool(n *yaml.Node) (bool, error) {
	n = Resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on", "y":
			return true, nil
		case "false", "no", "off", "n":
			return false, nil
		}
	}
	return false, fmt.Errorf("must be true or false, got %s", Describe(n))
}

// Strings reads a list of scalars as text.
func Strings(n *yaml.Node) ([]string, error) {
	n = Resolve(n)
	if IsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("must be a list of text, got %s", Describe(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		s, err := String(item)
		if err != nil || IsNull(item) {
			return nil, fmt.Errorf("item %d must be text, got %s", i+1, Describe(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// StringOrStrings reads one text value or a list of them.
func StringOrStrings(n *yaml.Node) ([]string, error) {
	n = Resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && !IsNull(n) {
		return []string{n.Value}, nil
	}
	return Strings(n)
}
