package formation

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// CheckParameters applies the checks CloudFormation itself makes on parameter
// values (known name, AllowedValues, Number with MinValue/MaxValue) and
// returns every problem at once.
func CheckParameters(values map[string]string) error {
	t, err := parsed()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []error
	for _, name := range names {
		p, ok := t.Parameters[name]
		if !ok {
			problems = append(problems, fmt.Errorf("%s is not a parameter of the template", name))
			continue
		}
		if err := p.check(values[name]); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(problems...)
}

// check reports whether value satisfies this declaration's constraints.
func (p Parameter) check(value string) error {
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, value) {
		return fmt.Errorf("%q is not one of %s", value, strings.Join(p.AllowedValues, ", "))
	}
	if p.Type != "Number" {
		return nil
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", value)
	}
	if p.MinValue != nil && n < *p.MinValue {
		return fmt.Errorf("%s is below MinValue %v", value, *p.MinValue)
	}
	if p.MaxValue != nil && n > *p.MaxValue {
		return fmt.Errorf("%s is above MaxValue %v", value, *p.MaxValue)
	}
	return nil
}

// effective fills in defaults for parameters values leaves out.
func (t *template) effective(values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Parameters))
	for name, p := range t.Parameters {
		if v, ok := values[name]; ok {
			out[name] = v
			continue
		}
		if p.Default == nil {
			return nil, fmt.Errorf("parameter %s has no default and no value", name)
		}
		out[name] = *p.Default
	}
	return out, nil
}
