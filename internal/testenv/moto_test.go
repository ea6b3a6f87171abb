package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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

	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("builds")}); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
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
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	run, err := client.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("builds"), TaskDefinition: def.TaskDefinition.TaskDefinitionArn,
		LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{subnet}, SecurityGroups: []string{group},
		}},
	})
	if err != nil {
		t.Fatalf("RunTask: %v\n%s", err, m.Logs())
	}
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask started %d tasks, want 1", len(run.Tasks))
	}
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String("builds"), Tasks: []string{*run.Tasks[0].TaskArn},
	})
	if err != nil {
		t.Fatalf("DescribeTasks: %v", err)
	}
	c := out.Tasks[0].Containers[0]
	if aws.ToString(c.Cpu) != "256" || aws.ToString(c.Memory) != "512" {
		t.Errorf("container cpu/memory = %q/%q, want 256/512", aws.ToString(c.Cpu), aws.ToString(c.Memory))
	}
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
		t.Fatalf("CreateStack: %v", err)
	}
	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("fargate-build"),
	})
	if err != nil {
		t.Fatalf("DescribeTaskDefinition: %v", err)
	}
	td := out.TaskDefinition
	if aws.ToString(td.Cpu) != "1024" || aws.ToString(td.Memory) != "2048" {
		t.Errorf("cpu/memory = %q/%q, want 1024/2048", aws.ToString(td.Cpu), aws.ToString(td.Memory))
	}
	if td.NetworkMode != ecstypes.NetworkModeAwsvpc {
		t.Errorf("network mode = %q, want awsvpc", td.NetworkMode)
	}
	if len(td.RequiresCompatibilities) != 1 || td.RequiresCompatibilities[0] != ecstypes.CompatibilityFargate {
		t.Errorf("requires compatibilities = %v, want [FARGATE]", td.RequiresCompatibilities)
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
	if _, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{}); err == nil {
		t.Fatal("ListClusters succeeded after Stop")
	}
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
		t.Fatalf("CreateStack: %v", err)
	}
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("network")})
	if err != nil {
		t.Fatalf("DescribeStacks: %v", err)
	}
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "Subnet":
			subnet = aws.ToString(o.OutputValue)
		case "Group":
			group = aws.ToString(o.OutputValue)
		}
	}
	if subnet == "" || group == "" {
		t.Fatalf("network stack outputs: subnet %q, group %q", subnet, group)
	}
	return subnet, group
}
