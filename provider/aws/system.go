package aws

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/version"
	"github.com/convox/rack/provider/aws/stack"
)

// SystemGet describes the rack from its stack (status, parameters with secrets
// masked, outputs) and the version stamped into this binary.
func (p *Provider) SystemGet() (*structs.System, error) {
	st, err := p.stack()
	if err != nil {
		return nil, err
	}
	s := &structs.System{
		Name:       p.rack,
		Provider:   "aws",
		Region:     p.region,
		Status:     rackStatus(st.Status),
		Version:    version.Current(),
		Parameters: map[string]string{},
		Outputs:    st.Outputs,
	}
	for k, v := range st.Parameters {
		if pm, ok := params.Lookup(k); ok && pm.Secret && v != "" {
			v = "****"
		}
		s.Parameters[k] = v
	}
	return s, nil
}

// SystemUpdate changes rack parameters through one UpdateStack that keeps the
// template and every other value. Values are checked against the parameter
// catalogue first, so a bad value or name never reaches CloudFormation.
func (p *Provider) SystemUpdate(opts structs.SystemUpdateOptions) error {
	changes := opts.Parameters
	if len(changes) == 0 {
		return nil
	}
	if err := checkParams(changes); err != nil {
		return invalid(err)
	}
	st, err := p.stack()
	if err != nil {
		return err
	}
	if st.Busy() {
		return invalid(fmt.Errorf("rack stack is %s: try again when it has finished", st.Status))
	}
	changed, err := stack.Update(p.ctx, p.cfn, st, changes)
	if errors.Is(err, stack.ErrUnknownParameter) {
		return invalid(fmt.Errorf("rack parameters: %w", err))
	}
	if err != nil {
		return err
	}
	if !changed {
		p.logf("at=system.update changed=false names=%s", names(changes))
		return nil
	}
	p.logf("at=system.update changed=true names=%s", names(changes))
	if p.waitUpdate {
		if _, err := stack.Wait(p.ctx, p.cfn, p.rack, p.pollEvery); err != nil {
			return err
		}
	}
	return nil
}

// checkParams validates values with the catalogue and refuses parameters that
// are not in the rack template (the local provider's own ones).
func checkParams(changes map[string]string) error {
	err := params.Validate(changes)
	var problems []string
	var verr *params.ValidationError
	if errors.As(err, &verr) {
		problems = append(problems, verr.Problems...)
	} else if err != nil {
		return err
	}
	for k := range changes {
		if pm, ok := params.Lookup(k); ok && !pm.Template {
			problems = append(problems, fmt.Sprintf("%s is not a parameter of an aws rack", k))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("invalid rack parameters:\n  %s", strings.Join(problems, "\n  "))
}

// names lists the parameter names of changes, never their values (some are secret).
func names(changes map[string]string) string {
	out := make([]string, 0, len(changes))
	for k := range changes {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// rackStatus maps a CloudFormation stack status to the rack's word for it.
func rackStatus(s string) string {
	switch {
	case strings.HasPrefix(s, "CREATE_IN_PROGRESS"):
		return "installing"
	case strings.Contains(s, "ROLLBACK_IN_PROGRESS"):
		return "rollback"
	case strings.HasSuffix(s, "_IN_PROGRESS"):
		return "updating"
	case strings.HasSuffix(s, "_FAILED"), s == "ROLLBACK_COMPLETE":
		return "failed"
	case strings.HasSuffix(s, "_COMPLETE"):
		return "running"
	}
	return strings.ToLower(s)
}

// firstOf is the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
