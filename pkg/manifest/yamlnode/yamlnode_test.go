package yamlnode

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, err string
		empty         bool
	}{
		{name: "empty", in: "", empty: true},
		{name: "comment only", in: "# nothing\n", empty: true},
		{name: "null", in: "~\n", empty: true},
		{name: "mapping", in: "a: 1\n"},
		{name: "two documents", in: "a: 1\n---\nb: 2\n", err: "only one YAML document"},
		{name: "syntax", in: "a: [\n", err: "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.in))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err, "Parse = %v, want error containing %q", err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.empty, (n == nil), "Parse returned node %v, want empty=%v", n, tt.empty)
		})
	}
}

func TestPairs(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "order kept", in: "m:\n  b: 1\n  a: 2\n", want: "b=1 a=2"},
		{name: "merge, own keys win", in: "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", want: "y=3 x=1"},
		{name: "merge list", in: "a: &a {x: 1}\nb: &b {y: 2}\nm:\n  <<: [*a, *b]\n", want: "x=1 y=2"},
		{name: "repeated key", in: "m:\n  x: 1\n  x: 2\n", err: `"x" is repeated (first at line 2)`},
		{name: "not a mapping", in: "m: [1]\n", err: "must be a mapping, got a list"},
		{name: "list key", in: "m:\n  ? [a]\n  : 1\n", err: "keys must be text"},
		{name: "merge of a scalar", in: "m:\n  <<: 1\n", err: "merge key: must be a mapping"},
		{name: "null", in: "m:\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, err := Parse([]byte(tt.in))
			require.NoError(t, err)
			var m Pair
			all, _ := Pairs(top)
			for _, p := range all {
				if p.Key == "m" {
					m = p
				}
			}
			ps, err := Pairs(m.Value)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err, "Pairs = %v, want error containing %q", err, tt.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, p := range ps {
				got = append(got, p.Key+"="+p.Value.Value)
			}
			s := strings.Join(got, " ")
			require.Equal(t, tt.want, s, "Pairs = %q, want %q", s, tt.want)
		})
	}
}

func TestScalars(t *testing.T) {
	top, err := Parse([]byte("i: 42\ns: '42'\nneg: -3\nf: 1.5\nhex: 0x10\nbig: 99999999999\nb: true\nl: [a, 1]\nbad: [a, [b]]\nnil:\n"))
	require.NoError(t, err)
	ps, _ := Pairs(top)
	v := map[string]Pair{}
	for _, p := range ps {
		v[p.Key] = p
	}
	ints := []struct {
		key  string
		want int
		ok   bool
	}{{"i", 42, true}, {"s", 42, true}, {"neg", -3, true}, {"f", 0, false}, {"hex", 0, false}, {"big", 0, false}, {"l", 0, false}, {"nil", 0, false}}
	for _, tt := range ints {
		got, err := Int(v[tt.key].Value)
		assert.False(t, (err == nil) != tt.ok, "Int(%s) = %d, %v; want %d ok=%v", tt.key, got, err, tt.want, tt.ok)
		assert.Equal(t, tt.want, got, "Int(%s) = %d, %v; want %d ok=%v", tt.key, got, err, tt.want, tt.ok)
	}
	b, err := Bool(v["b"].Value)
	if assert.NoError(t, err, "Bool(b) = %v, %v", b, err) {
		assert.True(t, b, "Bool(b) = %v, %v", b, err)
	}
	_, err = Bool(v["s"].Value)
	assert.Error(t, err, "Bool accepted text")
	s, err := String(v["f"].Value)
	if assert.NoError(t, err, "String(f)") {
		assert.Equal(t, "1.5", s, "String(f)")
	}
	_, err = String(v["l"].Value)
	assert.ErrorContains(t, err, "got a list", "String(list) error = %v", err)
	l, err := Strings(v["l"].Value)
	if assert.NoError(t, err, "Strings(l)") {
		assert.Equal(t, []string{"a", "1"}, l, "Strings(l)")
	}
	_, err = Strings(v["bad"].Value)
	assert.ErrorContains(t, err, "item 2 must be text", "Strings(bad) error = %v", err)
	l, err = StringOrStrings(v["s"].Value)
	if assert.NoError(t, err, "StringOrStrings(s) = %q, %v", l, err) {
		if assert.Len(t, l, 1, "StringOrStrings(s) = %q, %v", l, err) {
			assert.EqualValues(t, "42", l[0], "StringOrStrings(s) = %q, %v", l, err)
		}
	}
}

func TestUnknown(t *testing.T) {
	allowed := []string{"build", "command", "image"}
	tests := []struct{ key, want string }{
		{"biuld", `unknown field "biuld" (line 3), did you mean "build"?`},
		{"Image", `unknown field "Image" (line 3), did you mean "image"?`},
		{"zzz", `unknown field "zzz" (line 3), allowed: build, command, image`},
	}
	for _, tt := range tests {
		got := Unknown(tt.key, 3, allowed)
		assert.Equal(t, tt.want, got, "Unknown(%q) = %q, want %q", tt.key, got, tt.want)
	}
}
