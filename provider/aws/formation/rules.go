package formation

import (
	"errors"
	"fmt"
	"sort"
)

// templateRule is one entry of the template's Rules: assertions CloudFormation
// checks on the parameter values before it creates or updates anything.
type templateRule struct {
	RuleCondition any `json:"RuleCondition"`
	Assertions    []struct {
		Assert            any    `json:"Assert"`
		AssertDescription string `json:"AssertDescription"`
	} `json:"Assertions"`
}

// checkRules refuses values that break one of the template's rules, naming every broken assertion.
func (e *evaluator) checkRules() error {
	names := make([]string, 0, len(e.t.Rules))
	for name := range e.t.Rules {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []error
	for _, name := range names {
		rule := e.t.Rules[name]
		if rule.RuleCondition != nil {
			applies, err := e.decide(rule.RuleCondition)
			if err != nil {
				return fmt.Errorf("rule %s: %w", name, err)
			}
			if !applies {
				continue
			}
		}
		for _, a := range rule.Assertions {
			ok, err := e.decide(a.Assert)
			if err != nil {
				return fmt.Errorf("rule %s: %w", name, err)
			}
			if !ok {
				problems = append(problems, fmt.Errorf("rule %s: %s", name, a.AssertDescription))
			}
		}
	}
	return errors.Join(problems...)
}
