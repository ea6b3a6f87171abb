package formation

import "fmt"

// Stack is one deployment of the template: its name, where, and its parameter values.
type Stack struct {
	Name    string
	Region  string            // "" means us-east-1
	Account string            // "" means 123456789012
	Params  map[string]string // parameters left out take the template default
}

// Resolved is the template as CloudFormation would deploy it for one Stack:
// conditions decided, resources and outputs whose condition is false dropped,
// and Ref to parameters, Fn::If, Fn::Sub, Fn::Join, Fn::Select, Fn::FindInMap
// and Fn::Base64 evaluated. What exists only once deployed (Ref to a resource,
// Fn::GetAtt, Fn::GetAZs) stays as the intrinsic, e.g. {"Ref": "Vpc"}.
type Resolved struct {
	Params     map[string]string
	Conditions map[string]bool
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Resource is one resource that exists for the stack, with evaluated properties.
type Resource struct {
	Type       string
	Properties map[string]any
}

// noValue stands for AWS::NoValue until its property or list item is dropped.
type noValue struct{}

// Resolve evaluates the template for s, refusing values CloudFormation would refuse.
func Resolve(s Stack) (*Resolved, error) {
	t, err := parsed()
	if err != nil {
		return nil, err
	}
	if err := CheckParameters(s.Params); err != nil {
		return nil, err
	}
	params, err := t.effective(s.Params)
	if err != nil {
		return nil, err
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.Account == "" {
		s.Account = "123456789012"
	}
	e := &evaluator{t: t, stack: s, params: params, conditions: map[string]bool{}}
	if err := e.checkRules(); err != nil {
		return nil, err
	}
	r := &Resolved{Params: params, Conditions: map[string]bool{}, Resources: map[string]Resource{}, Outputs: map[string]any{}}
	for name := range t.Conditions {
		if r.Conditions[name], err = e.condition(name); err != nil {
			return nil, err
		}
	}
	for name, res := range t.Resources {
		if res.Condition != "" && !r.Conditions[res.Condition] {
			continue
		}
		props, err := e.value(res.Properties)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", name, err)
		}
		m, _ := props.(map[string]any)
		r.Resources[name] = Resource{Type: res.Type, Properties: m}
	}
	for name, out := range t.Outputs {
		if out.Condition != "" && !r.Conditions[out.Condition] {
			continue
		}
		if r.Outputs[name], err = e.value(out.Value); err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
	}
	return r, r.checkReferences()
}

// evaluator evaluates intrinsic functions for one stack.
type evaluator struct {
	t          *template
	stack      Stack
	params     map[string]string
	conditions map[string]bool
	deciding   []string // conditions being decided, to refuse cycles
}

// condition decides a named condition once.
func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.conditions[name]; ok {
		return v, nil
	}
	node, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	for _, d := range e.deciding {
		if d == name {
			return false, fmt.Errorf("condition %s depends on itself", name)
		}
	}
	e.deciding = append(e.deciding, name)
	v, err := e.decide(node)
	e.deciding = e.deciding[:len(e.deciding)-1]
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.conditions[name] = v
	return v, nil
}

// decide evaluates a condition expression: Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition.
func (e *evaluator) decide(node any) (bool, error) {
	fn, arg, ok := intrinsic(node)
	if !ok {
		return false, fmt.Errorf("not a condition function: %v", node)
	}
	args, _ := arg.([]any)
	switch fn {
	case "Condition":
		name, _ := arg.(string)
		return e.condition(name)
	case "Fn::Equals":
		if len(args) != 2 {
			return false, fmt.Errorf("Fn::Equals takes 2 values, got %v", arg)
		}
		a, err := e.text(args[0])
		if err != nil {
			return false, err
		}
		b, err := e.text(args[1])
		return a == b, err
	case "Fn::Not":
		if len(args) != 1 {
			return false, fmt.Errorf("Fn::Not takes 1 condition, got %v", arg)
		}
		v, err := e.decide(args[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		if len(args) < 2 {
			return false, fmt.Errorf("%s takes 2 or more conditions, got %v", fn, arg)
		}
		and := fn == "Fn::And"
		for _, a := range args {
			v, err := e.decide(a)
			if err != nil {
				return false, err
			}
			if v != and {
				return v, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s is not a condition function", fn)
}
