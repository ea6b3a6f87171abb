package aws

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/buildtask/buildtasktest"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/ecsbuild"
	"github.com/convox/rack/provider/aws/stack"
)

// TestBuildSpecContract: every method × BuildCache × cleanup × generation
// reaches cmd/build, through the RunTask overrides, as the contract says.
func TestBuildSpecContract(t *testing.T) {
	p := &Provider{rack: "rack1", rackURL: "https://convox:pw@rack.example", res: Resources{BuildCacheRepositoryURI: "1.dkr.ecr.us-east-1.amazonaws.com/rack1-build-cache"}}
	for _, c := range buildtasktest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			st := &stack.Stack{Parameters: c.Params}
			a := &structs.App{Name: "web", Generation: c.Generation}
			spec, err := p.buildSpec(st, a, structs.Build{Id: "B1", Repository: "1.dkr.ecr.us-east-1.amazonaws.com/rack1/web"}, "object://web/k", structs.BuildCreateOptions{})
			require.NoError(t, err)
			buildtasktest.Check(t, c, spec)
			in, err := ecsbuild.RunTaskInput(ecsbuild.Task{Method: spec.Method, Cluster: "c", TaskDefinition: "td", Container: "build",
				Subnets: []string{"s"}, SecurityGroup: "sg", ClientToken: "B1"}, spec)
			require.NoError(t, err)
			env := map[string]string{}
			for _, kv := range in.Overrides.ContainerOverrides[0].Environment {
				env[*kv.Name] = *kv.Value
			}
			parsed, err := buildtask.Parse(in.Overrides.ContainerOverrides[0].Command, func(k string) string { return env[k] })
			require.NoError(t, err)
			// What the task reads back is the contract without its secrets, logging in to ECR itself.
			want := spec.WithoutSecrets()
			want.RegistryLogin = buildtask.LoginECR
			require.Equal(t, want, parsed)
		})
	}
}
