package aws_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/structs"
)

// Anyone with ecs:DescribeTasks or ecs:DescribeTaskDefinition (and CloudTrail)
// reads task overrides and task definitions: after a build starts, neither
// holds the rack password, an ECR token or an Authorization value. The build
// task gets the password as an ECS secret and asks ECR for its own login.
func TestNoSecretsInBuildTasks(t *testing.T) {
	for _, method := range []string{"ec2", "fargate"} {
		t.Run(method, func(t *testing.T) {
			r := newRack(t, map[string]string{"BuildMethod": method, "BuildCache": "Yes"})
			if method == "ec2" {
				r.registerInstance()
			}
			ecsClient := ecs.NewFromConfig(r.cfg)
			token, err := ecr.NewFromConfig(r.cfg).GetAuthorizationToken(r.ctx, &ecr.GetAuthorizationTokenInput{})
			require.NoError(t, err)
			secrets := map[string]string{
				"rack password": "rack-secret",
				"ECR password":  r.ecrPassword(),
				"ECR token":     sdkaws.ToString(token.AuthorizationData[0].AuthorizationToken),
			}
			_, err = r.p.AppCreate("web", structs.AppCreateOptions{})
			require.NoError(t, err)
			b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{BuildArgs: []string{"A=1"}})
			require.NoError(t, err, "%v\n%s", err, r.moto.Logs())

			// What was sent (moto's recording of RunTask) and what ECS shows (DescribeTasks).
			runs := r.callsOf("RunTask")
			require.Len(t, runs, 1)
			task := r.task(b)
			shown, err := json.Marshal(task.Overrides)
			require.NoError(t, err)
			env, _ := overrides(t, task)
			require.NotEmpty(t, env["RACK_URL"], "the task is told where to report")
			u, err := url.Parse(env["RACK_URL"])
			require.NoError(t, err)
			assert.Nil(t, u.User, "RACK_URL carries credentials: %s", u.Redacted())
			assert.Empty(t, env["BUILD_AUTH"], "BUILD_AUTH in the overrides")
			assert.Equal(t, "ecr", env["BUILD_REGISTRY_LOGIN"], "the task logs in to ECR itself")

			// Every task definition of the stack: the build ones (both methods) and the API's.
			defs, err := ecsClient.ListTaskDefinitions(r.ctx, &ecs.ListTaskDefinitionsInput{})
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(defs.TaskDefinitionArns), 3, "task definitions %v", defs.TaskDefinitionArns)
			texts := map[string]string{"RunTask request": runs[0].Body, "DescribeTasks overrides": string(shown)}
			for _, arn := range defs.TaskDefinitionArns {
				out, err := ecsClient.DescribeTaskDefinition(r.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: sdkaws.String(arn)})
				require.NoError(t, err)
				for _, c := range out.TaskDefinition.ContainerDefinitions {
					plain, err := json.Marshal(struct {
						Env     []ecstypes.KeyValuePair
						Command []string
					}{c.Environment, c.Command})
					require.NoError(t, err)
					texts[arn+" "+sdkaws.ToString(c.Name)] = string(plain)
					if strings.Contains(arn, "-build-") || strings.HasSuffix(sdkaws.ToString(out.TaskDefinition.Family), "-api") {
						assert.True(t, hasSecret(c.Secrets, "RACK_PASSWORD"), "%s: the password is not an ECS secret of the task definition: %+v", arn, c.Secrets)
					}
				}
			}
			for where, text := range texts {
				for what, secret := range secrets {
					assert.NotContains(t, text, secret, "%s holds the %s", where, what)
				}
				for _, marker := range []string{"Authorization", "Basic ", "Bearer "} {
					assert.NotContains(t, text, marker, "%s holds an %q value", where, marker)
				}
			}
		})
	}
}

// hasSecret reports whether secrets delivers the variable name.
func hasSecret(secrets []ecstypes.Secret, name string) bool {
	for _, s := range secrets {
		if sdkaws.ToString(s.Name) == name {
			return true
		}
	}
	return false
}
