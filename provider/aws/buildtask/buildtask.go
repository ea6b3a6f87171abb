// Package buildtask turns a build request into the ECS RunTask call that
// starts cmd/build: the BUILD_* environment of the build task contract, the
// command arguments, and the launch settings of the ec2 or fargate method.
package buildtask

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Build methods, as the BuildMethod rack parameter names them.
const (
	MethodEC2     = "ec2"
	MethodFargate = "fargate"
)

// FargatePlatform is the Fargate platform version builds run on.
const FargatePlatform = "1.4.0"

// Env is the environment of the build task contract.
type Env struct {
	App         string
	ID          string
	URL         string
	Push        string // the app's image repository; images are tagged {push}:{service}.{build}
	Auth        string // registry logins as JSON; a secret
	Generation  string
	Manifest    string
	Development bool
	Method      string
	Cache       bool
	CacheRepo   string
	CacheTTL    string
	Rack        string
	RackURL     string // may hold the rack password; a secret
}

// Secrets are the names of the variables whose values must never be logged or stored.
var Secrets = []string{"BUILD_AUTH", "RACK_URL"}

// Vars is the environment as name → value.
func (e Env) Vars() map[string]string {
	return map[string]string{
		"BUILD_APP":         e.App,
		"BUILD_ID":          e.ID,
		"BUILD_URL":         e.URL,
		"BUILD_PUSH":        e.Push,
		"BUILD_AUTH":        e.Auth,
		"BUILD_GENERATION":  e.Generation,
		"BUILD_MANIFEST":    e.Manifest,
		"BUILD_DEVELOPMENT": strconv.FormatBool(e.Development),
		"BUILD_METHOD":      e.Method,
		"BUILD_CACHE":       strconv.FormatBool(e.Cache),
		"BUILD_CACHE_REPO":  e.CacheRepo,
		"BUILD_CACHE_TTL":   e.CacheTTL,
		"BUILD_RACK":        e.Rack,
		"RACK_URL":          e.RackURL,
	}
}

// Args are the command arguments of cmd/build: -cache=false for --no-cache and
// one -build-args per build argument, in the order given.
func Args(noCache bool, buildArgs []string) []string {
	var args []string
	if noCache {
		args = append(args, "-cache=false")
	}
	for _, a := range buildArgs {
		args = append(args, "-build-args", a)
	}
	return args
}

// Task says where a build runs; it comes from the rack stack's outputs.
type Task struct {
	Method         string
	Cluster        string
	TaskDefinition string
	Container      string
	Subnets        []string
	SecurityGroup  string
	// StartedBy tags the task so it can be traced back to its build.
	StartedBy string
}

// RunTaskInput is the RunTask request for one build: the same overrides on both
// methods, with Fargate adding awsvpc networking and its platform version.
func RunTaskInput(t Task, env Env, args []string) (*ecs.RunTaskInput, error) {
	if t.Cluster == "" || t.TaskDefinition == "" || t.Container == "" {
		return nil, fmt.Errorf("build task needs a cluster, task definition and container (got %q, %q, %q)", t.Cluster, t.TaskDefinition, t.Container)
	}
	vars := env.Vars()
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
		Overrides:      &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{override}},
	}
	switch t.Method {
	case MethodEC2:
		in.LaunchType = types.LaunchTypeEc2
	case MethodFargate:
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
