package formation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// deploy creates a stack of the template in moto and returns its outputs.
func deploy(ctx context.Context, t *testing.T, m *testenv.Moto, name string, values map[string]string) map[string]string {
	t.Helper()
	// No retries: a retried CreateStack only says the stack already exists.
	client := cloudformation.NewFromConfig(m.AWSConfig(t), func(o *cloudformation.Options) { o.RetryMaxAttempts = 1 })
	var parameters []cfntypes.Parameter
	all := maps.Clone(required)
	maps.Copy(all, values)
	for k, v := range all {
		parameters = append(parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	if _, err := client.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(name),
		TemplateBody: aws.String(string(Template())),
		Parameters:   parameters,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
	}); err != nil {
		require.Fail(t, fmt.Sprintf("CreateStack %s: %v\n%s", name, err, m.Logs()))
	}
	for {
		out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		require.NoError(t, err, "DescribeStacks %s", name)
		stack := out.Stacks[0]
		switch stack.StackStatus {
		case cfntypes.StackStatusCreateComplete:
			outputs := map[string]string{}
			for _, o := range stack.Outputs {
				outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
			}
			return outputs
		case cfntypes.StackStatusCreateInProgress:
			time.Sleep(200 * time.Millisecond)
		default:
			require.Fail(t, fmt.Sprintf("stack %s: %s %s\n%s", name, stack.StackStatus, aws.ToString(stack.StackStatusReason), m.Logs()))
		}
	}
}

// taskEnvironment is the build container's environment of a registered task definition.
func taskEnvironment(ctx context.Context, t *testing.T, client *ecs.Client, arn string) map[string]string {
	t.Helper()
	out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	require.NoError(t, err, "DescribeTaskDefinition %s", arn)
	env := map[string]string{}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) != "build" {
			continue
		}
		for _, kv := range c.Environment {
			env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
	}
	return env
}

// describeRepository returns the named repository, or nil when ECR has none.
func describeRepository(ctx context.Context, t *testing.T, client *ecr.Client, name string) *ecrtypes.Repository {
	t.Helper()
	out, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var notFound *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &notFound) {
		return nil
	}
	require.NoError(t, err, "DescribeRepositories %s", name)
	return &out.Repositories[0]
}

// The template deployed into moto: one server for every case (stack names differ).
func TestMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := testenv.StartMoto(t)
	t.Run("cache off", func(t *testing.T) { testCacheOff(t, m) })
	t.Run("cache on", func(t *testing.T) { testCacheOn(t, m) })
	t.Run("lifecycle policy", func(t *testing.T) { testLifecyclePolicy(t, m) })
}

// A stack with the cache off has no cache repository and tells builds so.
func testCacheOff(t *testing.T, m *testenv.Moto) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := m.AWSConfig(t)
	outputs := deploy(ctx, t, m, "rackoff", map[string]string{"BuildCache": "No"})

	repo := describeRepository(ctx, t, ecr.NewFromConfig(cfg), "rackoff-build-cache")
	assert.Nil(t, repo, "cache repository exists with the cache off")
	for _, name := range []string{OutputBuildCacheRepositoryName, OutputBuildCacheRepositoryURI} {
		v, ok := outputs[name]
		assert.False(t, ok, "output %s = %q with the cache off", name, v)
	}
	client := ecs.NewFromConfig(cfg)
	for _, def := range []string{OutputBuildTaskDefinitionEc2, OutputBuildTaskDefinitionFargate} {
		env := taskEnvironment(ctx, t, client, outputs[def])
		v, ok := env["BUILD_CACHE_REPO"]
		assert.EqualValues(t, "false", env["BUILD_CACHE"], "%s: BUILD_CACHE=%q BUILD_CACHE_REPO=%q (present %v), want false and empty", def, env["BUILD_CACHE"], v, ok)
		assert.True(t, ok, "%s: BUILD_CACHE=%q BUILD_CACHE_REPO=%q (present %v), want false and empty", def, env["BUILD_CACHE"], v, ok)
		assert.Empty(t, v, "%s: BUILD_CACHE=%q BUILD_CACHE_REPO=%q (present %v), want false and empty", def, env["BUILD_CACHE"], v, ok)
		assert.EqualValues(t, "87600h", env["BUILD_CACHE_TTL"], "%s: BUILD_CACHE_TTL=%q without cleanup", def, env["BUILD_CACHE_TTL"])
	}
	checkOutputs(ctx, t, cfg, outputs)
}

// A stack with the cache on has {stack}-build-cache, MUTABLE, wired into both
// task definitions, and no file system on fargate; deleting the stack removes the repository.
func testCacheOn(t *testing.T, m *testenv.Moto) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := m.AWSConfig(t)
	outputs := deploy(ctx, t, m, "rackon", map[string]string{
		"BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "14", "BuildMethod": "fargate",
	})
	ecrClient := ecr.NewFromConfig(cfg)
	repo := describeRepository(ctx, t, ecrClient, "rackon-build-cache")
	require.NotNil(t, repo, "no rackon-build-cache repository with the cache on")
	uri := aws.ToString(repo.RepositoryUri)
	assert.Equal(t, ecrtypes.ImageTagMutabilityMutable, repo.ImageTagMutability, "cache repository tag mutability = %s, want MUTABLE", repo.ImageTagMutability)
	assert.Equal(t, uri, outputs[OutputBuildCacheRepositoryURI], "cache outputs = %q, %q; repository %s", outputs[OutputBuildCacheRepositoryName], outputs[OutputBuildCacheRepositoryURI], uri)
	assert.EqualValues(t, "rackon-build-cache", outputs[OutputBuildCacheRepositoryName], "cache outputs = %q, %q; repository %s", outputs[OutputBuildCacheRepositoryName], outputs[OutputBuildCacheRepositoryURI], uri)
	client := ecs.NewFromConfig(cfg)
	for _, def := range []string{OutputBuildTaskDefinitionEc2, OutputBuildTaskDefinitionFargate} {
		env := taskEnvironment(ctx, t, client, outputs[def])
		assert.Equal(t, "true", env["BUILD_CACHE"], "%s: BUILD_CACHE", def)
		assert.Equal(t, uri, env["BUILD_CACHE_REPO"], "%s: BUILD_CACHE_REPO", def)
		assert.Equal(t, "336h", env["BUILD_CACHE_TTL"], "%s: BUILD_CACHE_TTL", def)
	}
	checkFargateTask(ctx, t, cfg, outputs)
	checkOutputs(ctx, t, cfg, outputs)

	lbsBefore := loadBalancers(ctx, t, cfg)
	cfnClient := cloudformation.NewFromConfig(cfg)
	_, err := cfnClient.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("rackon")})
	require.NoError(t, err, "DeleteStack: %v", err)
	deadline := time.Now().Add(time.Minute)
	for describeRepository(ctx, t, ecrClient, "rackon-build-cache") != nil || loadBalancers(ctx, t, cfg) > lbsBefore-1 {
		require.False(t, time.Now().After(deadline), "cache repository or rack API load balancer still exists a minute after DeleteStack")
		time.Sleep(200 * time.Millisecond)
	}
}

// The lifecycle policy the template gives the cache repository is one moto's ECR accepts and keeps.
func testLifecyclePolicy(t *testing.T, m *testenv.Moto) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ecr.NewFromConfig(m.AWSConfig(t))
	_, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("convox-build-cache")})
	require.NoError(t, err, "CreateRepository: %v", err)
	for _, days := range []int{1, 30, 365} {
		r := resolve(t, map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": fmt.Sprint(days)})
		text := lifecyclePolicy(t, r)
		if _, err := client.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
			RepositoryName: aws.String("convox-build-cache"), LifecyclePolicyText: aws.String(text),
		}); err != nil {
			require.Fail(t, fmt.Sprintf("retention %d: PutLifecyclePolicy refused %s: %v", days, text, err))
		}
		got, err := client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("convox-build-cache")})
		require.NoError(t, err, "GetLifecyclePolicy")
		assert.True(t, sameJSON(t, aws.ToString(got.LifecyclePolicyText), text), "retention %d: stored policy %s, put %s", days, aws.ToString(got.LifecyclePolicyText), text)
	}
	// The check is real: moto refuses a policy whose rule has no action.
	bad := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":1}}]}`
	if _, err := client.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
		RepositoryName: aws.String("convox-build-cache"), LifecyclePolicyText: aws.String(bad),
	}); err == nil {
		assert.Fail(t, "moto accepted a lifecycle rule without an action")
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	require.NoError(t, json.Unmarshal([]byte(a), &x), "%q", a)
	require.NoError(t, json.Unmarshal([]byte(b), &y), "%q", b)
	return reflect.DeepEqual(x, y)
}

// checkOutputs: every output the AWS provider reads is there and names something that exists.
func checkOutputs(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	for _, name := range []string{
		OutputBuildCluster, OutputBuildTaskDefinitionEc2, OutputBuildTaskDefinitionFargate, OutputBuildContainerName,
		OutputObjectBucket, OutputAppsTable, OutputBuildsTable, OutputReleasesTable, OutputBuildLogGroup,
		OutputSubnets, OutputBuildSecurityGroup, OutputAppRepositoryPrefix,
	} {
		assert.NotEmpty(t, outputs[name], "output %s is missing", name)
	}
	assert.EqualValues(t, "build", outputs[OutputBuildContainerName], "BuildContainerName = %q", outputs[OutputBuildContainerName])
	subnets := strings.Split(outputs[OutputSubnets], ",")
	if assert.Len(t, subnets, 2, "Subnets = %q, want two comma-joined subnet ids", outputs[OutputSubnets]) {
		assert.True(t, strings.HasPrefix(subnets[0], "subnet-"), "Subnets = %q, want two comma-joined subnet ids", outputs[OutputSubnets])
	}
	checkStores(ctx, t, cfg, outputs)
	checkRackService(ctx, t, cfg, outputs)
}

// checkRackService: the rack API service runs the api task definition in the
// stack's cluster behind the load balancer RackUrl names.
func checkRackService(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	require.True(t, strings.HasPrefix(outputs[OutputRackURL], "https://"), "RackUrl = %q", outputs[OutputRackURL])
	host := strings.TrimPrefix(outputs[OutputRackURL], "https://")
	lbs, err := elasticloadbalancingv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{})
	require.NoError(t, err)
	var lbArn string
	for _, lb := range lbs.LoadBalancers {
		if aws.ToString(lb.DNSName) == host {
			lbArn = aws.ToString(lb.LoadBalancerArn)
			// Without a certificate: TCP pass-through to the API's own TLS.
			assert.Equal(t, elbtypes.LoadBalancerTypeEnumNetwork, lb.Type)
		}
	}
	require.NotEmpty(t, lbArn, "no load balancer named %s", host)
	listeners, err := elasticloadbalancingv2.NewFromConfig(cfg).DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbArn)})
	require.NoError(t, err)
	require.Len(t, listeners.Listeners, 1)
	assert.EqualValues(t, 443, aws.ToInt32(listeners.Listeners[0].Port))
	assert.Equal(t, elbtypes.ProtocolEnumTcp, listeners.Listeners[0].Protocol, "nothing listens in clear")

	client := ecs.NewFromConfig(cfg)
	services, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(outputs[OutputBuildCluster]), Services: []string{outputs[OutputRackService]}})
	require.NoError(t, err)
	require.Len(t, services.Services, 1, "rack API service %s", outputs[OutputRackService])
	svc := services.Services[0]
	assert.EqualValues(t, 1, svc.DesiredCount)
	// moto's CloudFormation drops a service's LoadBalancers (TestRackService checks them in the template).
	def, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svc.TaskDefinition})
	require.NoError(t, err)
	api := def.TaskDefinition.ContainerDefinitions[0]
	assert.Equal(t, required["ImageRegistry"]+"/convox-build:api", aws.ToString(api.Image))
	env := map[string]string{}
	for _, kv := range api.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	assert.Equal(t, outputs[OutputRackURL], env["RACK_ENDPOINT"])
	assert.Equal(t, "aws", env["PROVIDER"])
}

// loadBalancers counts the load balancers in the account.
func loadBalancers(ctx context.Context, t *testing.T, cfg aws.Config) int {
	t.Helper()
	out, err := elasticloadbalancingv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{})
	require.NoError(t, err)
	return len(out.LoadBalancers)
}
