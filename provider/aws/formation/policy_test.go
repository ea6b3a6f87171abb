package formation

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statement is one IAM policy statement of a role, with where it came from.
type statement struct {
	where     string
	action    []string
	resource  []any
	condition any
	raw       map[string]any
}

// oneOrMany is a policy field that may be one value or a list of them.
func oneOrMany(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// statementsOf reads a policy document's statements.
func statementsOf(t *testing.T, where string, doc any) []statement {
	t.Helper()
	m, ok := doc.(map[string]any)
	require.True(t, ok, "%s: policy document %v", where, doc)
	var out []statement
	for i, s := range oneOrMany(m["Statement"]) {
		raw := s.(map[string]any)
		st := statement{where: fmt.Sprintf("%s statement %d (%v)", where, i, raw["Sid"]), resource: oneOrMany(raw["Resource"]), condition: raw["Condition"], raw: raw}
		for _, a := range oneOrMany(raw["Action"]) {
			st.action = append(st.action, a.(string))
		}
		out = append(out, st)
	}
	return out
}

// rolePolicies are every statement granted to each role of r: its inline
// policies and the AWS::IAM::Policy resources attached to it.
func rolePolicies(t *testing.T, r *Resolved) map[string][]statement {
	t.Helper()
	out := map[string][]statement{}
	for name, res := range r.Resources {
		if res.Type != "AWS::IAM::Role" {
			continue
		}
		out[name] = nil
		for _, p := range oneOrMany(res.Properties["Policies"]) {
			pm := p.(map[string]any)
			out[name] = append(out[name], statementsOf(t, fmt.Sprintf("%s/%v", name, pm["PolicyName"]), pm["PolicyDocument"])...)
		}
	}
	for name, res := range r.Resources {
		switch res.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			for _, role := range oneOrMany(res.Properties["Roles"]) {
				ref, _ := role.(map[string]any)["Ref"].(string)
				_, ok := out[ref]
				require.True(t, ok, "%s is attached to %v, not a role of the stack", name, role)
				out[ref] = append(out[ref], statementsOf(t, name, res.Properties["PolicyDocument"])...)
			}
		}
	}
	return out
}

// assumedBy are the service principals a role trusts.
func assumedBy(t *testing.T, res Resource) []string {
	t.Helper()
	var out []string
	for _, st := range statementsOf(t, "trust", res.Properties["AssumeRolePolicyDocument"]) {
		principal, _ := st.raw["Principal"].(map[string]any)
		require.NotNil(t, principal, "%s: trust without a service principal", st.where)
		require.Len(t, principal, 1, "%s: trust names %v, only services expected", st.where, principal)
		for _, s := range oneOrMany(principal["Service"]) {
			out = append(out, s.(string))
		}
	}
	return out
}

// stackRoleArn is how a policy names a role of this stack: Fn::GetAtt [Role, Arn].
func stackRoleArn(r *Resolved, v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	args, _ := m["Fn::GetAtt"].([]any)
	if len(args) != 2 || args[1] != "Arn" {
		return "", false
	}
	name, _ := args[0].(string)
	return name, r.Resources[name].Type == "AWS::IAM::Role"
}

// policyCombinations are the parameter sets the policy checks walk: every method, cache and listener setting.
func policyCombinations() []map[string]string {
	var out []map[string]string
	for _, method := range []string{"ec2", "fargate"} {
		for _, cache := range []string{"Yes", "No"} {
			for _, listener := range listeners {
				set := map[string]string{"BuildMethod": method, "BuildCache": cache, "BuildCacheCleanup": cache}
				maps.Copy(set, listener)
				out = append(out, set)
			}
		}
	}
	return out
}

// No role the rack API or a build assumes can change IAM or use a wildcard
// action on every resource; only the CloudFormation update role (which the API
// can pass but not assume) touches IAM, and never to create or grant.
func TestPolicies(t *testing.T) {
	for _, set := range policyCombinations() {
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			r := resolve(t, set)
			roles := rolePolicies(t, r)
			_, ok := roles["StackUpdateRole"]
			assert.True(t, ok, "no StackUpdateRole: the rack API would update its stack with its own rights")
			for role, statements := range roles {
				services := assumedBy(t, r.Resources[role])
				require.NotEmpty(t, services, "%s trusts no one", role)
				cloudformationOnly := slices.Equal(services, []string{"cloudformation.amazonaws.com"})
				assert.Equal(t, role == "StackUpdateRole", cloudformationOnly, "%s is assumed by %v", role, services)
				assert.Empty(t, r.Resources[role].Properties["ManagedPolicyArns"], "%s: managed policies hide their statements from this test", role)
				for _, st := range statements {
					checkStatement(t, r, role, cloudformationOnly, st)
				}
			}
		})
	}
}

// checkStatement applies the rules to one statement of role.
func checkStatement(t *testing.T, r *Resolved, role string, cloudformationOnly bool, st statement) {
	t.Helper()
	assert.Equal(t, "Allow", st.raw["Effect"], "%s", st.where)
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		assert.NotContains(t, st.raw, k, "%s uses %s", st.where, k)
	}
	require.NotEmpty(t, st.action, "%s has no action", st.where)
	require.NotEmpty(t, st.resource, "%s has no resource", st.where)
	everything := slices.Contains(st.resource, any("*"))
	for _, a := range st.action {
		lower := strings.ToLower(a)
		assert.NotEqual(t, "*", a, "%s grants every action", st.where)
		assert.False(t, strings.HasPrefix(lower, "iam:") && strings.Contains(a, "*"), "%s grants %s", st.where, a)
		if !cloudformationOnly {
			// The API and builds assume these roles: no wildcard action on every resource, and IAM only to pass a role.
			assert.False(t, everything && strings.Contains(a, "*"), "%s grants %s on every resource", st.where, a)
			assert.False(t, strings.HasPrefix(lower, "iam:") && lower != "iam:passrole", "%s grants %s", st.where, a)
			assert.False(t, strings.HasPrefix(lower, "sts:"), "%s grants %s", st.where, a)
		}
		if strings.HasPrefix(lower, "iam:") {
			assert.False(t, everything, "%s grants %s on every resource", st.where, a)
			for _, c := range []string{"iam:createrole", "iam:putrolepolicy", "iam:attachrolepolicy", "iam:updateassumerolepolicy",
				"iam:createpolicy", "iam:createpolicyversion", "iam:createuser", "iam:createaccesskey", "iam:addroletoinstanceprofile"} {
				assert.NotEqual(t, c, lower, "%s grants %s: the stack's roles must never grant themselves more", st.where, a)
			}
		}
		if lower == "iam:passrole" {
			for _, res := range st.resource {
				name, ok := stackRoleArn(r, res)
				assert.True(t, ok, "%s passes %v: only roles the stack creates, by Fn::GetAtt", st.where, res)
				assert.NotEqual(t, role, name, "%s passes itself", st.where)
			}
		}
	}
}

// The rack API updates its stack only through the update role, passes that
// role only to CloudFormation and the build roles only to ECS, and starts only
// the stack's build task definitions in the build cluster.
func TestRackAPIPolicy(t *testing.T) {
	r := resolve(t, nil)
	statements := rolePolicies(t, r)["RackTaskRole"]
	bySid := map[string]statement{}
	for _, st := range statements {
		bySid[fmt.Sprint(st.raw["Sid"])] = st
	}
	update := bySid["UpdateThroughStackRole"]
	assert.Equal(t, []string{"cloudformation:UpdateStack"}, update.action)
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"cloudformation:RoleArn": map[string]any{"Fn::GetAtt": []any{"StackUpdateRole", "Arn"}}}}, update.condition)
	for _, st := range statements {
		if slices.Contains(st.action, "cloudformation:UpdateStack") {
			assert.Equal(t, "UpdateThroughStackRole", st.raw["Sid"], "%s updates the stack without the role", st.where)
		}
		if slices.Contains(st.action, "ecs:RunTask") {
			assert.Contains(t, fmt.Sprint(st.condition), "ecs:cluster", "%s runs tasks outside the build cluster", st.where)
		}
	}
	passed := map[string]string{}
	for _, st := range statements {
		if !slices.Contains(st.action, "iam:PassRole") {
			continue
		}
		service := fmt.Sprint(st.condition.(map[string]any)["StringEquals"].(map[string]any)["iam:PassedToService"])
		for _, res := range st.resource {
			name, _ := stackRoleArn(r, res)
			passed[name] = service
		}
	}
	assert.Equal(t, map[string]string{
		"StackUpdateRole":    "cloudformation.amazonaws.com",
		"BuildTaskRole":      "ecs-tasks.amazonaws.com",
		"BuildExecutionRole": "ecs-tasks.amazonaws.com",
	}, passed)
}

// Build tasks push only to the rack's app repositories and its cache repository.
func TestBuildTaskPushes(t *testing.T) {
	r, err := Resolve(Stack{Name: "MyRack", Region: "us-east-1", Account: "123456789012", Params: required})
	require.NoError(t, err)
	var pushTo []string
	for _, st := range rolePolicies(t, r)["BuildTaskRole"] {
		if !slices.Contains(st.action, "ecr:PutImage") {
			continue
		}
		for _, res := range st.resource {
			s, ok := scalar(res)
			require.True(t, ok, "%s: resource %v not resolved", st.where, res)
			pushTo = append(pushTo, s)
		}
	}
	assert.ElementsMatch(t, []string{
		"arn:aws:ecr:us-east-1:123456789012:repository/myrack/*",
		"arn:aws:ecr:us-east-1:123456789012:repository/myrack-build-cache",
	}, pushTo)
}

// A stack name with capitals gives valid (lower-case) ECR names, the same the provider uses.
func TestRepositoryNamesAreLowerCase(t *testing.T) {
	r, err := Resolve(Stack{Name: "Convox-Prod2", Params: withParams(map[string]string{"BuildCache": "Yes"})})
	require.NoError(t, err)
	assert.Equal(t, "convox-prod2-build-cache", r.Resources["BuildCacheRepository"].Properties["RepositoryName"])
	assert.Equal(t, "convox-prod2/", r.Outputs["AppRepositoryPrefix"])
	valid := regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	assert.Regexp(t, valid, r.Resources["BuildCacheRepository"].Properties["RepositoryName"])
	assert.Regexp(t, valid, strings.TrimSuffix(r.Outputs["AppRepositoryPrefix"].(string), "/")+"/web")
	// Every repository the template names, in a policy ARN or in a task's environment, is lower-case too.
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case string:
			if _, repo, ok := strings.Cut(x, ":repository/"); ok {
				assert.Equal(t, strings.ToLower(repo), repo, "%s names repository %s", where, x)
			}
		case []any:
			for _, item := range x {
				walk(where, item)
			}
		case map[string]any:
			if name, ok := x["Name"].(string); ok && strings.Contains(name, "REPOSITORY") {
				if value, ok := x["Value"].(string); ok {
					assert.Equal(t, strings.ToLower(value), value, "%s: %s = %s", where, name, value)
				}
			}
			for _, item := range x {
				walk(where, item)
			}
		}
	}
	for name, res := range r.Resources {
		walk(name, res.Properties)
	}
}

// Every stateful resource says what happens to its data on delete and on replacement,
// as docs/ARCHITECTURE.md's table says.
func TestDeletionPolicies(t *testing.T) {
	var tmpl struct {
		Resources map[string]struct {
			Type                string
			DeletionPolicy      string
			UpdateReplacePolicy string
		}
	}
	require.NoError(t, json.Unmarshal(Template(), &tmpl))
	want := map[string]string{
		"AppsTable": "Retain", "BuildsTable": "Retain", "ReleasesTable": "Retain", "ObjectBucket": "Retain",
		"RackPassword": "Delete", "BuildCacheRepository": "Delete", "BuildLogGroup": "Delete", "RackLogGroup": "Delete",
		"StackUpdateRole": "Retain", "StackUpdatePolicy": "Retain",
	}
	stateful := []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::ECR::Repository", "AWS::Logs::LogGroup"}
	for name, res := range tmpl.Resources {
		if slices.Contains(stateful, res.Type) {
			assert.Contains(t, want, name, "stateful %s (%s) has no chosen deletion policy", name, res.Type)
		}
	}
	for name, policy := range want {
		res := tmpl.Resources[name]
		assert.Equal(t, policy, res.DeletionPolicy, "%s DeletionPolicy", name)
		assert.Equal(t, policy, res.UpdateReplacePolicy, "%s UpdateReplacePolicy", name)
	}
}

// withParams is required values plus values.
func withParams(values map[string]string) map[string]string {
	all := maps.Clone(required)
	maps.Copy(all, values)
	return all
}

// Build tasks know their region: cmd/build asks ECR for its login there (an
// EC2-launched task is not told its region by ECS).
func TestBuildTasksKnowTheirRegion(t *testing.T) {
	r, err := Resolve(Stack{Name: "convox", Region: "eu-west-1", Params: required})
	require.NoError(t, err)
	for _, def := range []string{"BuildTaskDefinitionEc2", "BuildTaskDefinitionFargate"} {
		assert.Equal(t, "eu-west-1", environment(t, r, def)["AWS_REGION"], def)
	}
}
