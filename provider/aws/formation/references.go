package formation

import (
	"fmt"
	"sort"
	"strings"
)

// checkReferences refuses a resolved stack whose live parts name a resource
// its conditions dropped: CloudFormation rejects such a template at deploy.
func (r *Resolved) checkReferences() error {
	var missing []string
	check := func(where string, node any) {
		for _, name := range references(node) {
			if _, ok := r.Resources[name]; !ok {
				missing = append(missing, fmt.Sprintf("%s refers to %s, which does not exist", where, name))
			}
		}
	}
	for name, res := range r.Resources {
		check("resource "+name, res.Properties)
	}
	for name, out := range r.Outputs {
		check("output "+name, out)
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("unresolved references: %s", strings.Join(missing, "; "))
}

// references lists the resources a resolved node names through Ref, Fn::GetAtt or Fn::Sub.
func references(node any) []string {
	var out []string
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case map[string]any:
			if fn, arg, ok := intrinsic(x); ok {
				switch fn {
				case "Ref":
					if s, ok := arg.(string); ok {
						out = append(out, s)
					}
					return
				case "Fn::GetAtt":
					if list, ok := arg.([]any); ok && len(list) > 0 {
						if s, ok := list[0].(string); ok {
							out = append(out, s)
						}
					}
					return
				case "Fn::Sub":
					if s, ok := arg.(string); ok {
						for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
							if m[1] == "" {
								name, _, _ := strings.Cut(m[2], ".")
								out = append(out, name)
							}
						}
					}
					return
				}
			}
			for _, v := range x {
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(node)
	return out
}
