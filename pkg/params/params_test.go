package params

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeValues are tried against every parameter; want lists the accepted ones.
var edgeValues = []string{"0", "1", "365", "366", "abc", "yes", "Yes", "No", ""}

func TestCheckEveryParameter(t *testing.T) {
	want := map[string][]string{
		"BuildCache":              {"Yes", "No"},
		"BuildCacheCleanup":       {"Yes", "No"},
		"BuildCacheRetentionDays": {"1", "365"},
		"BuildMethod":             {},
		"BuildImage":              edgeValues,
		"BuildCpu":                {"0", "1", "365", "366"},
		"BuildMemory":             {"365", "366"},
		"FargateBuildCpu":         {},
		"FargateBuildMemory":      {},
		"BuildEphemeral":          {"Yes", "No"},
		"Password":                edgeValues,
		"ImageRegistry":           edgeValues,
		"CertificateArn":          edgeValues,
		"RackHostname":            edgeValues,
	}
	for _, p := range All() {
		accepted, ok := want[p.Name]
		if !assert.True(t, ok, "parameter %s has no expectations in this test", p.Name) {
			continue
		}
		for _, v := range edgeValues {
			err := p.Check(v)
			got, wantOK := err == nil, contains(accepted, v)
			assert.Equal(t, wantOK, got, "%s.Check(%q) = %v, want accepted=%v", p.Name, v, err, wantOK)
			assert.False(t, err != nil && !strings.Contains(err.Error(), p.Name), "%s.Check(%q) error %q does not name the parameter", p.Name, v, err)
		}
	}
	for name := range want {
		_, ok := Lookup(name)
		assert.True(t, ok, "expected parameter %s is missing from the catalogue", name)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestCheckSpecificValues(t *testing.T) {
	tests := []struct {
		name, value string
		err         string // "" means accepted
	}{
		{"BuildCacheRetentionDays", "0", `BuildCacheRetentionDays must be a whole number from 1 to 365, got "0"`},
		{"BuildCacheRetentionDays", "30", ""},
		{"BuildCacheRetentionDays", "1.5", `got "1.5"`},
		{"BuildCacheRetentionDays", " 1", `got " 1"`},
		{"BuildCacheRetentionDays", "1 ", `got "1 "`},
		{"BuildCacheRetentionDays", "+1", `got "+1"`},
		{"BuildCacheRetentionDays", "-1", `got "-1"`},
		{"BuildCacheRetentionDays", "01", `got "01"`},
		{"BuildCacheRetentionDays", "1e2", `got "1e2"`},
		{"BuildCacheRetentionDays", "99999999999999999999", `from 1 to 365`},
		{"BuildCacheRetentionDays", "", `got ""`},
		{"BuildCache", "maybe", `BuildCache must be one of Yes, No, got "maybe"`},
		{"BuildCache", "yes", `BuildCache must be one of Yes, No, got "yes"`},
		{"BuildCache", "YES", `got "YES"`},
		{"BuildCache", "", `got ""`},
		{"BuildMethod", "ec2", ""},
		{"BuildMethod", "fargate", ""},
		{"BuildMethod", "EC2", `BuildMethod must be one of ec2, fargate, got "EC2"`},
		{"BuildCpu", "16384", ""},
		{"BuildCpu", "16385", `BuildCpu must be a whole number from 0 to 16384, got "16385"`},
		{"BuildMemory", "127", `from 128 to 122880`},
		{"BuildMemory", "128", ""},
		{"BuildMemory", "122880", ""},
		{"BuildMemory", "122881", `got "122881"`},
		{"FargateBuildCpu", "256", ""},
		{"FargateBuildCpu", "4096", ""},
		{"FargateBuildCpu", "300", `FargateBuildCpu must be one of 256, 512, 1024, 2048, 4096, got "300"`},
		{"FargateBuildMemory", "511", `from 512 to 30720`},
		{"FargateBuildMemory", "512", ""},
		{"FargateBuildMemory", "30720", ""},
		{"FargateBuildMemory", "30721", `got "30721"`},
		{"BuildImage", "", ""},
		{"BuildImage", "example/build:1", ""},
		{"Password", "s3cr=t&x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			p, ok := Lookup(tt.name)
			require.True(t, ok, "Lookup(%q) not found", tt.name)
			err := p.Check(tt.value)
			if tt.err == "" {
				require.NoError(t, err, "Check(%q)", tt.value)
			} else {
				require.ErrorContains(t, err, tt.err, "Check(%q)", tt.value)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		values   map[string]string
		problems []string
	}{
		{"nil map", nil, nil},
		{"defaults", Defaults(), nil},
		{"enable cache", map[string]string{"BuildCache": "Yes", "BuildCacheRetentionDays": "14"}, nil},
		{"unknown name", map[string]string{"Foo": "1"}, []string{`unknown parameter "Foo"`}},
		{"name is case-sensitive", map[string]string{"buildcache": "Yes"}, []string{`unknown parameter "buildcache"`}},
		{"every problem at once, sorted by name", map[string]string{
			"Foo":                     "x",
			"BuildCacheRetentionDays": "0",
			"BuildCache":              "maybe",
			"BuildMethod":             "ec2",
			"Abc":                     "",
		}, []string{
			`unknown parameter "Abc"`,
			`BuildCache must be one of Yes, No, got "maybe"`,
			`BuildCacheRetentionDays must be a whole number from 1 to 365, got "0"`,
			`unknown parameter "Foo"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.values)
			if tt.problems == nil {
				require.NoError(t, err, "Validate = %v, want nil", err)
				return
			}
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "Validate = %v (%T), want *ValidationError", err, err)
			require.True(t, reflect.DeepEqual(ve.Problems, tt.problems), "problems:\n got %q\nwant %q", ve.Problems, tt.problems)
			want := strings.Join(tt.problems, "\n")
			require.Equal(t, want, err.Error(), "Error()")
		})
	}
}

func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		assert.NotEmpty(t, p.Name, "parameter name %q is empty or repeated", p.Name)
		assert.False(t, seen[p.Name], "parameter name %q is empty or repeated", p.Name)
		seen[p.Name] = true
		assert.NotEmpty(t, p.Group, "%s needs a group and a one-line description", p.Name)
		assert.NotEmpty(t, p.Description, "%s needs a group and a one-line description", p.Name)
		assert.NotContains(t, p.Description, "\n", "%s needs a group and a one-line description", p.Name)
		assert.NoError(t, p.Check(p.Default), "%s default is not allowed", p.Name)
		switch p.Kind {
		case KindEnum:
			assert.NotEmpty(t, p.Allowed, "%s is an enum with no allowed values", p.Name)
		case KindInt:
			assert.False(t, p.Min > p.Max, "%s has range %d..%d", p.Name, p.Min, p.Max)
			assert.False(t, p.Min < 0, "%s has range %d..%d", p.Name, p.Min, p.Max)
		}
	}
	got := len(Defaults())
	assert.Equal(t, len(All()), got, "Defaults has %d entries, All has %d", got, len(All()))
}

func TestGroups(t *testing.T) {
	require.Equal(t, []string{GroupBuild, GroupRack}, Groups())
	total := 0
	for _, g := range Groups() {
		ps := InGroup(g)
		assert.NotEmpty(t, ps, "group %s is empty", g)
		for _, p := range ps {
			assert.Equal(t, g, p.Group, "InGroup(%s) returned %s of group %s", g, p.Name, p.Group)
		}
		total += len(ps)
	}
	assert.Equal(t, len(All()), total, "groups hold %d parameters, All has %d", total, len(All()))
	ps := InGroup("nope")
	assert.Empty(t, ps, "InGroup(nope) = %v, want none", ps)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name                    string
		secret, template, local bool
	}{
		{"BuildCache", false, true, true},
		{"BuildCacheCleanup", false, true, true},
		{"BuildCacheRetentionDays", false, true, true},
		{"BuildEphemeral", false, false, true},
		{"Password", true, true, true},
	}
	for _, tt := range tests {
		p, _ := Lookup(tt.name)
		assert.Equal(t, tt.secret, p.Secret, "%s: secret", tt.name)
		assert.Equal(t, tt.template, p.Template, "%s: template", tt.name)
		assert.Equal(t, tt.local, p.Local, "%s: local", tt.name)
	}
}

func TestCallersCannotChangeTheCatalogue(t *testing.T) {
	p, _ := Lookup("BuildCache")
	p.Allowed[0] = "Maybe"
	all := All()
	all[1].Allowed[1] = "Never" // BuildCacheCleanup shares its value list
	err := Validate(map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "No"})
	require.NoError(t, err, "catalogue changed through a returned copy: %v", err)
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindString: "string", KindEnum: "enum", KindInt: "int", Kind(9): "Kind(9)"} {
		got := k.String()
		assert.Equal(t, want, got, "Kind(%d).String() = %q, want %q", int(k), got, want)
	}
}
