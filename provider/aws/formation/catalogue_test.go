package formation

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/convox/rack/pkg/params"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every template parameter is a catalogue entry with the same constraints, and back.
func TestParametersMatchCatalogue(t *testing.T) {
	declared, err := Parameters()
	require.NoError(t, err)
	for name, d := range declared {
		p, ok := params.Lookup(name)
		if !assert.True(t, ok, "template parameter %s is not in the catalogue", name) {
			continue
		}
		assert.True(t, p.Template, "%s is in the template but the catalogue does not mark it Template", name)
		if assert.NotNil(t, d.Default, "%s default: template %v, catalogue %q", name, deref(d.Default), p.Default) {
			assert.Equal(t, p.Default, *d.Default, "%s default: template %v, catalogue %q", name, deref(d.Default), p.Default)
		}
		assert.Equal(t, p.Secret, d.NoEcho, "%s: template NoEcho %v, catalogue Secret %v", name, d.NoEcho, p.Secret)
		switch p.Kind {
		case params.KindEnum:
			assert.EqualValues(t, "String", d.Type, "%s: template %s %q, catalogue enum %q", name, d.Type, d.AllowedValues, p.Allowed)
			assert.True(t, slices.Equal(d.AllowedValues, p.Allowed), "%s: template %s %q, catalogue enum %q", name, d.Type, d.AllowedValues, p.Allowed)
		case params.KindInt:
			assert.EqualValues(t, "Number", d.Type, "%s: template type %s with AllowedValues %q, catalogue int", name, d.Type, d.AllowedValues)
			assert.Empty(t, d.AllowedValues, "%s: template type %s with AllowedValues %q, catalogue int", name, d.Type, d.AllowedValues)
			assert.True(t, sameBound(d.MinValue, p.Min), "%s range: template %v..%v, catalogue %d..%d", name, deref(d.MinValue), deref(d.MaxValue), p.Min, p.Max)
			assert.True(t, sameBound(d.MaxValue, p.Max), "%s range: template %v..%v, catalogue %d..%d", name, deref(d.MinValue), deref(d.MaxValue), p.Min, p.Max)
		case params.KindString:
			assert.EqualValues(t, "String", d.Type, "%s: template %s with constraints, catalogue free string", name, d.Type)
			assert.Empty(t, d.AllowedValues, "%s: template %s with constraints, catalogue free string", name, d.Type)
			assert.Nil(t, d.MinValue, "%s: template %s with constraints, catalogue free string", name, d.Type)
			assert.Nil(t, d.MaxValue, "%s: template %s with constraints, catalogue free string", name, d.Type)
		default:
			assert.Fail(t, fmt.Sprintf("%s: catalogue kind %v has no template counterpart", name, p.Kind))
		}
	}
	for _, p := range params.All() {
		_, ok := declared[p.Name]
		assert.False(t, p.Template && !ok, "catalogue parameter %s is marked Template but rack.json does not declare it", p.Name)
	}
}

// CloudFormation's own checks accept every catalogue default and refuse what the catalogue refuses at the edges.
func TestCheckParametersAgreesWithCatalogue(t *testing.T) {
	declared, err := Parameters()
	require.NoError(t, err)
	for _, p := range params.All() {
		if !p.Template {
			continue
		}
		values := []string{p.Default}
		if p.Kind == params.KindInt {
			values = append(values, strconv.Itoa(p.Min-1), strconv.Itoa(p.Min), strconv.Itoa(p.Max), strconv.Itoa(p.Max+1))
		}
		values = append(values, p.Allowed...)
		for _, v := range values {
			catalogue := p.Check(v) == nil
			template := CheckParameters(map[string]string{p.Name: v}) == nil
			assert.Equal(t, template, catalogue, "%s=%q: catalogue accepts %v, template accepts %v", p.Name, v, catalogue, template)
		}
		_, ok := declared[p.Name]
		assert.True(t, ok, "%s missing from the template", p.Name)
	}
	err = CheckParameters(map[string]string{"NoSuchParameter": "x"})
	assert.Error(t, err, "CheckParameters accepted an unknown parameter")
}

func sameBound(v *float64, want int) bool {
	return v != nil && *v == float64(want)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
