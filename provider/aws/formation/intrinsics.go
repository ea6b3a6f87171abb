package formation

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// value evaluates a template node, dropping AWS::NoValue from maps and lists.
func (e *evaluator) value(node any) (any, error) {
	switch n := node.(type) {
	case map[string]any:
		if fn, arg, ok := intrinsic(n); ok {
			return e.call(fn, arg)
		}
		out := make(map[string]any, len(n))
		for k, v := range n {
			ev, err := e.value(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := ev.(noValue); !drop {
				out[k] = ev
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(n))
		for i, v := range n {
			ev, err := e.value(v)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := ev.(noValue); !drop {
				out = append(out, ev)
			}
		}
		return out, nil
	}
	return node, nil
}

// call evaluates one intrinsic function.
func (e *evaluator) call(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return e.ref(name)
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes a condition and 2 values, got %v", arg)
		}
		name, _ := args[0].(string)
		v, err := e.condition(name)
		if err != nil {
			return nil, err
		}
		if v {
			return e.value(args[1])
		}
		return e.value(args[2])
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::Join":
		return e.join(args)
	case "Fn::Split":
		return e.split(args)
	case "Fn::Select":
		return e.selectItem(args)
	case "Fn::FindInMap":
		return e.findInMap(args)
	case "Fn::Base64":
		v, err := e.value(arg)
		if err != nil {
			return nil, err
		}
		if s, ok := scalar(v); ok {
			return base64.StdEncoding.EncodeToString([]byte(s)), nil
		}
		return map[string]any{fn: v}, nil
	case "Fn::GetAtt", "Fn::GetAZs":
		return map[string]any{fn: arg}, nil
	}
	return nil, fmt.Errorf("unsupported intrinsic %s", fn)
}

// ref resolves parameters and pseudo parameters; a resource stays a Ref.
func (e *evaluator) ref(name string) (any, error) {
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::StackName":
		return e.stack.Name, nil
	case "AWS::Region":
		return e.stack.Region, nil
	case "AWS::AccountId":
		return e.stack.Account, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if _, ok := e.t.Resources[name]; ok {
		return map[string]any{"Ref": name}, nil
	}
	return nil, fmt.Errorf("unknown name %s in Ref", name)
}

var subVariable = regexp.MustCompile(`\$\{(!?)([^}]+)\}`)

// sub substitutes what it can; a ${Resource} or ${Resource.Attr} stays for deploy time.
func (e *evaluator) sub(arg any) (any, error) {
	text, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string and a map, got %v", arg)
		}
		text, _ = a[0].(string)
		m, _ := a[1].(map[string]any)
		for k, v := range m {
			ev, err := e.value(v)
			if err != nil {
				return nil, err
			}
			vars[k] = ev
		}
	}
	var problem error
	pending := false
	out := subVariable.ReplaceAllStringFunc(text, func(m string) string {
		parts := subVariable.FindStringSubmatch(m)
		if parts[1] == "!" {
			return "${" + parts[2] + "}"
		}
		name := parts[2]
		v, ok := vars[name]
		if !ok && !strings.Contains(name, ".") {
			var err error
			if v, err = e.ref(name); err != nil {
				problem = err
				return m
			}
		}
		if s, ok := scalar(v); ok {
			return s
		}
		pending = true
		return m
	})
	if problem != nil {
		return nil, problem
	}
	if pending {
		return map[string]any{"Fn::Sub": out}, nil
	}
	return out, nil
}

// join joins a list whose items are all known; otherwise it stays for deploy time.
func (e *evaluator) join(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::Join takes a delimiter and a list, got %v", args)
	}
	sep, _ := args[0].(string)
	list, err := e.value(args[1])
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return map[string]any{"Fn::Join": []any{sep, list}}, nil
	}
	texts := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := scalar(item)
		if !ok {
			return map[string]any{"Fn::Join": []any{sep, list}}, nil
		}
		texts = append(texts, s)
	}
	return strings.Join(texts, sep), nil
}

// split cuts a known string at a delimiter (how the template lower-cases the stack name).
func (e *evaluator) split(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::Split takes a delimiter and a string, got %v", args)
	}
	sep, _ := args[0].(string)
	v, err := e.value(args[1])
	if err != nil {
		return nil, err
	}
	text, ok := scalar(v)
	if !ok || sep == "" {
		return map[string]any{"Fn::Split": []any{sep, v}}, nil
	}
	parts := strings.Split(text, sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// selectItem picks an item of a known list by an index that may be a Ref.
func (e *evaluator) selectItem(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::Select takes an index and a list, got %v", args)
	}
	index, err := e.text(args[0])
	if err != nil {
		return nil, err
	}
	i, err := strconv.Atoi(index)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index %q is not a whole number", index)
	}
	list, err := e.value(args[1])
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return map[string]any{"Fn::Select": []any{index, list}}, nil
	}
	if i < 0 || i >= len(items) {
		return nil, fmt.Errorf("Fn::Select index %d is outside a list of %d", i, len(items))
	}
	return items[i], nil
}

// findInMap looks up Mappings[map][top][second].
func (e *evaluator) findInMap(args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("Fn::FindInMap takes 3 keys, got %v", args)
	}
	keys := make([]string, 3)
	for i, a := range args {
		s, err := e.text(a)
		if err != nil {
			return nil, err
		}
		keys[i] = s
	}
	top, ok := e.t.Mappings[keys[0]][keys[1]].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no mapping %s.%s", keys[0], keys[1])
	}
	v, ok := top[keys[2]]
	if !ok {
		return nil, fmt.Errorf("no mapping %s.%s.%s", keys[0], keys[1], keys[2])
	}
	return v, nil
}

// text evaluates node to a string, refusing what is known only once deployed.
func (e *evaluator) text(node any) (string, error) {
	v, err := e.value(node)
	if err != nil {
		return "", err
	}
	s, ok := scalar(v)
	if !ok {
		return "", fmt.Errorf("%v is not known before deployment", v)
	}
	return s, nil
}

// scalar spells a string, number or boolean as CloudFormation does.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// intrinsic splits {"Fn::X": arg}, {"Ref": name} or {"Condition": name} into its parts.
func intrinsic(node any) (string, any, bool) {
	m, ok := node.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, v, true
		}
	}
	return "", nil, false
}
