package formation

import (
	"slices"
	"strconv"
	"testing"

	"github.com/convox/rack/pkg/params"
)

// Every template parameter is a catalogue entry with the same constraints, and back.
func TestParametersMatchCatalogue(t *testing.T) {
	declared, err := Parameters()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range declared {
		p, ok := params.Lookup(name)
		if !ok {
			t.Errorf("template parameter %s is not in the catalogue", name)
			continue
		}
		if !p.Template {
			t.Errorf("%s is in the template but the catalogue does not mark it Template", name)
		}
		if d.Default == nil || *d.Default != p.Default {
			t.Errorf("%s default: template %v, catalogue %q", name, deref(d.Default), p.Default)
		}
		if d.NoEcho != p.Secret {
			t.Errorf("%s: template NoEcho %v, catalogue Secret %v", name, d.NoEcho, p.Secret)
		}
		switch p.Kind {
		case params.KindEnum:
			if d.Type != "String" || !slices.Equal(d.AllowedValues, p.Allowed) {
				t.Errorf("%s: template %s %q, catalogue enum %q", name, d.Type, d.AllowedValues, p.Allowed)
			}
		case params.KindInt:
			if d.Type != "Number" || len(d.AllowedValues) > 0 {
				t.Errorf("%s: template type %s with AllowedValues %q, catalogue int", name, d.Type, d.AllowedValues)
			}
			if !sameBound(d.MinValue, p.Min) || !sameBound(d.MaxValue, p.Max) {
				t.Errorf("%s range: template %v..%v, catalogue %d..%d", name, deref(d.MinValue), deref(d.MaxValue), p.Min, p.Max)
			}
		case params.KindString:
			if d.Type != "String" || len(d.AllowedValues) > 0 || d.MinValue != nil || d.MaxValue != nil {
				t.Errorf("%s: template %s with constraints, catalogue free string", name, d.Type)
			}
		default:
			t.Errorf("%s: catalogue kind %v has no template counterpart", name, p.Kind)
		}
	}
	for _, p := range params.All() {
		if _, ok := declared[p.Name]; p.Template && !ok {
			t.Errorf("catalogue parameter %s is marked Template but rack.json does not declare it", p.Name)
		}
	}
}

// CloudFormation's own checks accept every catalogue default and refuse what the catalogue refuses at the edges.
func TestCheckParametersAgreesWithCatalogue(t *testing.T) {
	declared, err := Parameters()
	if err != nil {
		t.Fatal(err)
	}
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
			if catalogue != template {
				t.Errorf("%s=%q: catalogue accepts %v, template accepts %v", p.Name, v, catalogue, template)
			}
		}
		if _, ok := declared[p.Name]; !ok {
			t.Errorf("%s missing from the template", p.Name)
		}
	}
	if err := CheckParameters(map[string]string{"NoSuchParameter": "x"}); err == nil {
		t.Error("CheckParameters accepted an unknown parameter")
	}
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
