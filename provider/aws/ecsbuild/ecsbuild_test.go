package ecsbuild

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
)

func TestRunTaskInput(t *testing.T) {
	base := Task{Cluster: "c", TaskDefinition: "td", Container: "build", StartedBy: "B1", ClientToken: "B1"}
	spec := buildtask.Spec{App: "web", ID: "B1", Cache: true, CacheRepo: "repo", Auth: `{"h":{}}`, NoCache: true, BuildArgs: []string{"A=1"}}
	for _, c := range []struct {
		method  buildtask.Method
		subnets []string
		sg      string
		launch  types.LaunchType
		err     string
	}{
		{method: buildtask.EC2, launch: types.LaunchTypeEc2},
		{method: buildtask.Fargate, subnets: []string{"s1", "s2"}, sg: "sg", launch: types.LaunchTypeFargate},
		{method: buildtask.Fargate, err: "subnets and a security group"},
		{method: "lambda", err: `"lambda"`},
	} {
		task := base
		task.Method, task.Subnets, task.SecurityGroup = c.method, c.subnets, c.sg
		in, err := RunTaskInput(task, spec)
		if c.err != "" {
			require.Error(t, err, c.method)
			assert.Contains(t, err.Error(), c.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.launch, in.LaunchType)
		assert.Equal(t, "td", aws.ToString(in.TaskDefinition))
		assert.Equal(t, "B1", aws.ToString(in.StartedBy))
		assert.Equal(t, "B1", aws.ToString(in.ClientToken), "the build id makes RunTask idempotent")
		fargate := c.method == buildtask.Fargate
		assert.Equal(t, fargate, in.NetworkConfiguration != nil, "network %+v", in.NetworkConfiguration)
		assert.Equal(t, fargate, aws.ToString(in.PlatformVersion) == FargatePlatform)
		o := in.Overrides.ContainerOverrides[0]
		assert.Equal(t, []string{"-cache=false", "-build-args", "A=1"}, o.Command)
		env := map[string]string{}
		var names []string
		for _, kv := range o.Environment {
			names = append(names, aws.ToString(kv.Name))
			env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		assert.True(t, slices.IsSorted(names), "environment names %v", names)
		public := spec.WithoutSecrets()
		public.RegistryLogin = buildtask.LoginECR
		assert.Equal(t, public.Vars(), env)
	}
}

// Overrides are public: whatever the provider fills in, no registry login,
// password or credentialed URL reaches them; the task logs in to ECR itself.
func TestRunTaskInputCarriesNoSecret(t *testing.T) {
	spec := buildtask.Spec{App: "web", ID: "B1", Auth: `{"1.dkr.ecr.us-east-1.amazonaws.com":{"username":"AWS","password":"ecr-token"}}`,
		RackURL: "https://convox:rack-pw@rack.example:443/", RackPassword: "rack-pw"}
	in, err := RunTaskInput(Task{Method: buildtask.EC2, Cluster: "c", TaskDefinition: "td", Container: "build", StartedBy: "B1", ClientToken: "B1"}, spec)
	require.NoError(t, err)
	env := map[string]string{}
	for _, kv := range in.Overrides.ContainerOverrides[0].Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		for _, secret := range []string{"ecr-token", "rack-pw"} {
			assert.NotContains(t, aws.ToString(kv.Value), secret, "%s carries a secret", aws.ToString(kv.Name))
		}
	}
	assert.Equal(t, "https://rack.example:443/", env["RACK_URL"])
	assert.Equal(t, "ecr", env["BUILD_REGISTRY_LOGIN"])
	assert.NotContains(t, env, "RACK_PASSWORD")
}

func TestRunTaskInputNeedsTheTaskDefinition(t *testing.T) {
	_, err := RunTaskInput(Task{Method: buildtask.EC2, Cluster: "c"}, buildtask.Spec{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "task definition")
	_, err = RunTaskInput(Task{Method: buildtask.EC2, Cluster: "c", TaskDefinition: "td", Container: "build"}, buildtask.Spec{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "client token")
}
