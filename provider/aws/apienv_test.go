package aws_test

import (
	"maps"
	"regexp"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/provider/aws"
	"github.com/convox/rack/provider/aws/formation"
)

// apiEnvironment is the environment ECS gives the rack API's container: the
// Environment of RackTaskDefinition in rack.json, evaluated by the formation
// package for the stack's parameters, with what exists only once deployed (a
// Ref to a resource, Fn::GetAtt) read from the stack moto deployed; and its
// Secrets as ECS resolves them (RACK_PASSWORD: the stack's password). Nothing
// comes from the stack's outputs, so the API the tests run cannot lean on them.
func (r *rack) apiEnvironment() map[string]string {
	r.t.Helper()
	resolved, err := formation.Resolve(formation.Stack{Name: rackName, Region: r.cfg.Region, Params: r.params})
	require.NoError(r.t, err, "resolving rack.json")
	def, ok := resolved.Resources["RackTaskDefinition"]
	require.True(r.t, ok, "rack.json has no RackTaskDefinition")
	containers, _ := def.Properties["ContainerDefinitions"].([]any)
	require.Len(r.t, containers, 1, "RackTaskDefinition containers")
	container, _ := containers[0].(map[string]any)
	env := map[string]string{}
	vars, _ := container["Environment"].([]any)
	for _, v := range vars {
		kv, _ := v.(map[string]any)
		name, _ := kv["Name"].(string)
		env[name] = r.deployed(kv["Value"])
	}
	secrets, _ := container["Secrets"].([]any)
	for _, v := range secrets {
		kv, _ := v.(map[string]any)
		name, _ := kv["Name"].(string)
		require.Equal(r.t, map[string]any{"Ref": "RackPassword"}, kv["ValueFrom"], "secret %s: only the rack password is known to the tests", name)
		env[name] = r.params["Password"]
	}
	return env
}

// resources are the stack's resource names as the API reads them from its environment.
func (r *rack) resources() aws.Resources {
	r.t.Helper()
	env := r.apiEnvironment()
	res, err := aws.ResourcesFromEnv(func(k string) string { return env[k] })
	require.NoError(r.t, err)
	return res
}

// physical is the physical id of a resource of the deployed stack (what Ref gives).
func (r *rack) physical(name string) string {
	r.t.Helper()
	if r.physicalIDs == nil {
		out, err := cloudformation.NewFromConfig(r.cfg).DescribeStackResources(r.ctx, &cloudformation.DescribeStackResourcesInput{StackName: sdkaws.String(rackName)})
		require.NoError(r.t, err)
		r.physicalIDs = map[string]string{}
		for _, res := range out.StackResources {
			r.physicalIDs[sdkaws.ToString(res.LogicalResourceId)] = sdkaws.ToString(res.PhysicalResourceId)
		}
	}
	id, ok := r.physicalIDs[name]
	require.True(r.t, ok, "stack has no resource %s: %v", name, maps.Keys(r.physicalIDs))
	return id
}

// attribute is Fn::GetAtt of a deployed resource, read from the service that holds it.
func (r *rack) attribute(name, attr string) string {
	r.t.Helper()
	switch name + "." + attr {
	case "RackLoadBalancer.DNSName":
		out, err := elb.NewFromConfig(r.cfg).DescribeLoadBalancers(r.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{r.physical(name)}})
		require.NoError(r.t, err)
		require.Len(r.t, out.LoadBalancers, 1)
		return sdkaws.ToString(out.LoadBalancers[0].DNSName)
	case "BuildCacheRepository.RepositoryUri":
		out, err := ecr.NewFromConfig(r.cfg).DescribeRepositories(r.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{r.physical(name)}})
		require.NoError(r.t, err)
		return sdkaws.ToString(out.Repositories[0].RepositoryUri)
	}
	require.Failf(r.t, "unknown attribute", "the tests cannot read Fn::GetAtt %s.%s of a deployed stack", name, attr)
	return ""
}

var subName = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// deployed evaluates what formation.Resolve left for deploy time.
func (r *rack) deployed(v any) string {
	r.t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if name, ok := x["Ref"].(string); ok {
			return r.physical(name)
		}
		if args, ok := x["Fn::GetAtt"].([]any); ok && len(args) == 2 {
			return r.attribute(args[0].(string), args[1].(string))
		}
		if args, ok := x["Fn::Join"].([]any); ok && len(args) == 2 {
			var parts []string
			items, _ := args[1].([]any)
			for _, item := range items {
				parts = append(parts, r.deployed(item))
			}
			return strings.Join(parts, args[0].(string))
		}
		if text, ok := x["Fn::Sub"].(string); ok {
			return subName.ReplaceAllStringFunc(text, func(m string) string {
				name, attr, ok := strings.Cut(m[2:len(m)-1], ".")
				if ok {
					return r.attribute(name, attr)
				}
				return r.physical(name)
			})
		}
	}
	require.Failf(r.t, "unknown intrinsic", "the tests cannot evaluate %v of a deployed stack", v)
	return ""
}
