package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Go SDK decodes the tasks moto runs: container cpu/memory come back as strings.
func TestMotoTaskDecodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ecs.NewFromConfig(m.AWSConfig(t))

	_, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("builds")})
	require.NoError(t, err, "CreateCluster: %v", err)
	subnet, group := motoNetwork(ctx, t, m)
	def, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("build"),
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     aws.String("256"),
		Memory:                  aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("build"), Image: aws.String("convox/build"),
			Cpu: 256, Memory: aws.Int32(512), MemoryReservation: aws.Int32(256),
		}},
	})
	require.NoError(t, err, "RegisterTaskDefinition")
	run, err := client.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("builds"), TaskDefinition: def.TaskDefinition.TaskDefinitionArn,
		LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{subnet}, SecurityGroups: []string{group},
		}},
	})
	require.NoError(t, err, "RunTask: %v\n%s", err, m.Logs())
	require.Len(t, run.Tasks, 1, "RunTask started %d tasks, want 1", len(run.Tasks))
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String("builds"), Tasks: []string{*run.Tasks[0].TaskArn},
	})
	require.NoError(t, err, "DescribeTasks")
	c := out.Tasks[0].Containers[0]
	assert.EqualValues(t, "256", aws.ToString(c.Cpu), "container cpu/memory = %q/%q, want 256/512", aws.ToString(c.Cpu), aws.ToString(c.Memory))
	assert.EqualValues(t, "512", aws.ToString(c.Memory), "container cpu/memory = %q/%q, want 256/512", aws.ToString(c.Cpu), aws.ToString(c.Memory))
}

// A stack's Fargate task definition keeps its cpu, memory, network mode and compatibilities.
func TestMotoStackTaskDefinition(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := m.AWSConfig(t)
	template := `{"Resources":{"Build":{"Type":"AWS::ECS::TaskDefinition","Properties":{
		"Family":"fargate-build","Cpu":"1024","Memory":"2048","NetworkMode":"awsvpc",
		"RequiresCompatibilities":["FARGATE"],
		"ContainerDefinitions":[{"Name":"build","Image":"convox/build","Essential":true}]}}},
		"Outputs":{"Arn":{"Value":{"Ref":"Build"}}}}`
	if _, err := cloudformation.NewFromConfig(cfg).CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("taskdef"), TemplateBody: aws.String(template),
	}); err != nil {
		require.Fail(t, fmt.Sprintf("CreateStack: %v", err))
	}
	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("fargate-build"),
	})
	require.NoError(t, err, "DescribeTaskDefinition")
	td := out.TaskDefinition
	assert.EqualValues(t, "1024", aws.ToString(td.Cpu), "cpu/memory = %q/%q, want 1024/2048", aws.ToString(td.Cpu), aws.ToString(td.Memory))
	assert.EqualValues(t, "2048", aws.ToString(td.Memory), "cpu/memory = %q/%q, want 1024/2048", aws.ToString(td.Cpu), aws.ToString(td.Memory))
	assert.Equal(t, ecstypes.NetworkModeAwsvpc, td.NetworkMode, "network mode = %q, want awsvpc", td.NetworkMode)
	if assert.Len(t, td.RequiresCompatibilities, 1, "requires compatibilities = %v, want [FARGATE]", td.RequiresCompatibilities) {
		assert.Equal(t, ecstypes.CompatibilityFargate, td.RequiresCompatibilities[0], "requires compatibilities = %v, want [FARGATE]", td.RequiresCompatibilities)
	}
}

// Stop ends the server: the endpoint no longer answers.
func TestMotoStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := StartMoto(t)
	m.Stop()
	client := ecs.NewFromConfig(m.AWSConfig(t), func(o *ecs.Options) { o.RetryMaxAttempts = 1 })
	_, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{})
	require.Error(t, err, "ListClusters succeeded after Stop")
}

// motoNetwork makes a VPC with one subnet and a security group through a stack
// and returns their ids (moto's RunTask needs both for awsvpc tasks).
func motoNetwork(ctx context.Context, t *testing.T, m *Moto) (subnet, group string) {
	t.Helper()
	template := `{"Resources":{
		"Vpc":{"Type":"AWS::EC2::VPC","Properties":{"CidrBlock":"10.0.0.0/16"}},
		"Subnet":{"Type":"AWS::EC2::Subnet","Properties":{"VpcId":{"Ref":"Vpc"},"CidrBlock":"10.0.1.0/24"}},
		"Group":{"Type":"AWS::EC2::SecurityGroup","Properties":{"VpcId":{"Ref":"Vpc"},"GroupDescription":"builds"}}},
		"Outputs":{"Subnet":{"Value":{"Ref":"Subnet"}},"Group":{"Value":{"Ref":"Group"}}}}`
	client := cloudformation.NewFromConfig(m.AWSConfig(t))
	if _, err := client.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("network"), TemplateBody: aws.String(template),
	}); err != nil {
		require.Fail(t, fmt.Sprintf("CreateStack: %v", err))
	}
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("network")})
	require.NoError(t, err, "DescribeStacks")
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "Subnet":
			subnet = aws.ToString(o.OutputValue)
		case "Group":
			group = aws.ToString(o.OutputValue)
		}
	}
	require.NotEmpty(t, subnet, "network stack outputs: subnet %q, group %q", subnet, group)
	require.NotEmpty(t, group, "network stack outputs: subnet %q, group %q", subnet, group)
	return subnet, group
}
