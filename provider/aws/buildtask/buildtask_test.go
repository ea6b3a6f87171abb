package buildtask

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestRunTaskInput(t *testing.T) {
	base := Task{Cluster: "c", TaskDefinition: "td", Container: "build", StartedBy: "B1"}
	env := Env{App: "web", ID: "B1", Cache: true, CacheRepo: "repo", Auth: `{"h":{}}`}
	for _, c := range []struct {
		method  string
		subnets []string
		sg      string
		launch  types.LaunchType
		err     string
	}{
		{method: MethodEC2, launch: types.LaunchTypeEc2},
		{method: MethodFargate, subnets: []string{"s1", "s2"}, sg: "sg", launch: types.LaunchTypeFargate},
		{method: MethodFargate, err: "subnets and a security group"},
		{method: "lambda", err: `"lambda"`},
	} {
		task := base
		task.Method, task.Subnets, task.SecurityGroup = c.method, c.subnets, c.sg
		in, err := RunTaskInput(task, env, Args(true, []string{"A=1"}))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.method, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if in.LaunchType != c.launch || aws.ToString(in.TaskDefinition) != "td" || aws.ToString(in.StartedBy) != "B1" {
			t.Errorf("%s: %+v", c.method, in)
		}
		fargate := c.method == MethodFargate
		if (in.NetworkConfiguration != nil) != fargate || (aws.ToString(in.PlatformVersion) == FargatePlatform) != fargate {
			t.Errorf("%s: network %+v platform %q", c.method, in.NetworkConfiguration, aws.ToString(in.PlatformVersion))
		}
		o := in.Overrides.ContainerOverrides[0]
		if !slices.Equal(o.Command, []string{"-cache=false", "-build-args", "A=1"}) {
			t.Errorf("command %q", o.Command)
		}
		var names []string
		for _, kv := range o.Environment {
			names = append(names, aws.ToString(kv.Name))
		}
		if !slices.IsSorted(names) || len(names) != len(env.Vars()) {
			t.Errorf("environment names %v", names)
		}
	}
}

func TestArgs(t *testing.T) {
	if got := Args(false, nil); got != nil {
		t.Errorf("no flags: %q", got)
	}
	if got := Args(false, []string{"A=1", "B=x y"}); !slices.Equal(got, []string{"-build-args", "A=1", "-build-args", "B=x y"}) {
		t.Errorf("build args: %q", got)
	}
}

func TestVarsCoverTheContract(t *testing.T) {
	vars := Env{}.Vars()
	for _, k := range strings.Fields("BUILD_APP BUILD_ID BUILD_URL BUILD_PUSH BUILD_AUTH BUILD_GENERATION BUILD_MANIFEST BUILD_DEVELOPMENT BUILD_METHOD BUILD_CACHE BUILD_CACHE_REPO BUILD_CACHE_TTL BUILD_RACK RACK_URL") {
		if _, ok := vars[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	for _, s := range Secrets {
		if _, ok := vars[s]; !ok {
			t.Errorf("secret %s is not a variable", s)
		}
	}
}
