package yamlnode

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestWalk(t *testing.T) {
	top, err := Parse([]byte("x-base: &b {image: a}\nname: web\nbiuld: .\nprivileged: maybe\nlist:\n  one: 1\n  two: 2\n"))
	require.NoError(t, err)
	p := Problems{File: "f.yml"}
	var name string
	var privileged bool
	var order []string
	p.Walk("", WithoutExtensions(p.Pairs("", top)), Fields{
		"build":      func(Pair) { assert.Fail(t, "build is not in the file") },
		"name":       p.TextInto("", &name),
		"privileged": p.BoolInto("", &privileged),
		"list": func(f Pair) {
			order = Each(&p, "list", f.Value, func(e Pair) string { return e.Key })
		},
	})
	assert.Equal(t, "web", name)
	assert.Equal(t, []string{"one", "two"}, order, "document order")
	var e *Error
	require.True(t, errors.As(p.Err(), &e))
	assert.Equal(t, []string{
		`f.yml: unknown field "biuld" (line 3), did you mean "build"?`,
		`f.yml: privileged: must be true or false, got "maybe" (line 4)`,
	}, e.Problems, "x- keys are skipped, unknown keys suggest an allowed one, bad values are named")
}

func TestMappingOfAScalar(t *testing.T) {
	top, err := Parse([]byte("build: .\n"))
	require.NoError(t, err)
	p := Problems{File: "f.yml"}
	pairs := p.Pairs("", top)
	assert.False(t, IsMapping(pairs[0].Value))
	assert.True(t, IsMapping(top))
	p.Mapping("build", pairs[0].Value, Fields{"path": func(Pair) {}})
	assert.EqualError(t, p.Err(), `f.yml: build: must be a mapping, got "." (line 1)`)
	assert.Equal(t, []string{"args", "manifest", "path"}, Fields{"path": nil, "args": nil, "manifest": nil}.Names())
}

func TestDecode(t *testing.T) {
	read := func(p *Problems) func(*yaml.Node) int {
		return func(n *yaml.Node) int {
			if len(p.Pairs("", n)) > 1 {
				p.Add("", 0, "too many keys")
			}
			return len(n.Content)
		}
	}
	var checked int
	check := func(p *Problems) func(int) { return func(int) { checked++ } }
	for _, tt := range []struct{ in, err string }{
		{"", "f.yml: is empty; it needs keys"},
		{"a: [\n", "f.yml: invalid YAML: "},
		{"a: 1\nb: 2\n", "f.yml: too many keys"},
		{"a: 1\n", ""},
	} {
		p := &Problems{File: "f.yml"}
		n, err := Decode(p, []byte(tt.in), "is empty; it needs keys", read(p), check(p))
		if tt.err == "" {
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			continue
		}
		assert.ErrorContains(t, err, tt.err)
		assert.Zero(t, n)
	}
	assert.Equal(t, 1, checked, "check runs only when reading found no problem")
}
