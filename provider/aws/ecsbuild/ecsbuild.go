// Package ecsbuild turns a build's task spec into the ECS RunTask call that
// starts cmd/build: the contract as container overrides, and the launch
// settings of the ec2 or fargate method.
package ecsbuild

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/convox/rack/pkg/buildtask"
)

// FargatePlatform is the Fargate platform version builds run on.
const FargatePlatform = "1.4.0"

// Task says where a build runs; it comes from the rack stack's outputs.
type Task struct {
	Method         buildtask.Method
	Cluster        string
	TaskDefinition string
	Container      string
	Subnets        []string
	SecurityGroup  string
	// StartedBy tags the task so it can be traced back to its build.
	StartedBy string
	// ClientToken makes RunTask idempotent (at most 64 characters): a retried
	// call with the same token starts no second task.
	ClientToken string
}

// RunTaskInput is the RunTask request for one build: the same overrides on both
// methods, with Fargate adding awsvpc networking and its platform version.
//
// Overrides are readable by anyone with ecs:DescribeTasks (and in CloudTrail),
// so none of the contract's secrets goes there: no BUILD_AUTH, no password in
// RACK_URL or RACK_PASSWORD. The task gets the password as an ECS secret of its
// task definition and asks ECR for its own login with its task role.
func RunTaskInput(t Task, spec buildtask.Spec) (*ecs.RunTaskInput, error) {
	spec = spec.WithoutSecrets()
	spec.RegistryLogin = buildtask.LoginECR
	if t.Cluster == "" || t.TaskDefinition == "" || t.Container == "" {
		return nil, fmt.Errorf("build task needs a cluster, task definition and container (got %q, %q, %q)", t.Cluster, t.TaskDefinition, t.Container)
	}
	if t.ClientToken == "" || len(t.ClientToken) > 64 {
		return nil, fmt.Errorf("build task needs a client token of 1 to 64 characters, got %q", t.ClientToken)
	}
	vars, args := spec.Vars(), spec.Args()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	override := types.ContainerOverride{Name: aws.String(t.Container)}
	for _, k := range names {
		override.Environment = append(override.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(vars[k])})
	}
	if len(args) > 0 {
		override.Command = args
	}
	in := &ecs.RunTaskInput{
		Cluster:        aws.String(t.Cluster),
		TaskDefinition: aws.String(t.TaskDefinition),
		Count:          aws.Int32(1),
		StartedBy:      aws.String(t.StartedBy),
		ClientToken:    aws.String(t.ClientToken),
		Overrides:      &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{override}},
	}
	switch t.Method {
	case buildtask.EC2:
		in.LaunchType = types.LaunchTypeEc2
	case buildtask.Fargate:
		if len(t.Subnets) == 0 || t.SecurityGroup == "" {
			return nil, fmt.Errorf("fargate build task needs subnets and a security group")
		}
		in.LaunchType = types.LaunchTypeFargate
		in.PlatformVersion = aws.String(FargatePlatform)
		in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets:        t.Subnets,
			SecurityGroups: []string{t.SecurityGroup},
			// Rack subnets are public: without an address the task cannot reach ECR.
			AssignPublicIp: types.AssignPublicIpEnabled,
		}}
	default:
		return nil, fmt.Errorf("build method %q: ec2 or fargate expected", t.Method)
	}
	return in, nil
}
