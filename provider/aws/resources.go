package aws

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Resources names the stack's resources the provider works with. The rack
// API's task definition in rack.json hands them over as its environment (a Ref
// or Fn::GetAtt of each resource), never through the stack's outputs:
// CloudFormation publishes outputs only once a stack is complete, and the API
// must start while its stack is still being created, updated or rolled back.
type Resources struct {
	AppsTable     string
	BuildsTable   string
	ReleasesTable string
	ObjectBucket  string
	BuildCluster  string
	// BuildTaskDefinitionEc2 and BuildTaskDefinitionFargate are task definition ARNs, one per build method.
	BuildTaskDefinitionEc2     string
	BuildTaskDefinitionFargate string
	// BuildContainer is the container of a build task definition that runs cmd/build.
	BuildContainer     string
	BuildLogGroup      string
	BuildSecurityGroup string
	// Subnets are where Fargate build tasks run.
	Subnets []string
	// BuildCacheRepositoryURI is the {rack}-build-cache repository while BuildCache=Yes, else "".
	BuildCacheRepositoryURI string
	// AppRepositoryPrefix goes before an app's name to name its ECR repository.
	AppRepositoryPrefix string
	// PasswordSecret is the Secrets Manager secret holding the rack password ("" outside a stack).
	PasswordSecret string
}

// resourceVar is one environment variable of the API task and the field it fills.
type resourceVar struct {
	name     string
	field    func(*Resources) *string
	optional bool
}

// resourceVars are the variables rack.json's RackTaskDefinition sets, one per resource.
var resourceVars = []resourceVar{
	{name: "RACK_APPS_TABLE", field: func(r *Resources) *string { return &r.AppsTable }},
	{name: "RACK_BUILDS_TABLE", field: func(r *Resources) *string { return &r.BuildsTable }},
	{name: "RACK_RELEASES_TABLE", field: func(r *Resources) *string { return &r.ReleasesTable }},
	{name: "RACK_OBJECT_BUCKET", field: func(r *Resources) *string { return &r.ObjectBucket }},
	{name: "RACK_BUILD_CLUSTER", field: func(r *Resources) *string { return &r.BuildCluster }},
	{name: "RACK_BUILD_TASK_DEFINITION_EC2", field: func(r *Resources) *string { return &r.BuildTaskDefinitionEc2 }},
	{name: "RACK_BUILD_TASK_DEFINITION_FARGATE", field: func(r *Resources) *string { return &r.BuildTaskDefinitionFargate }},
	{name: "RACK_BUILD_CONTAINER", field: func(r *Resources) *string { return &r.BuildContainer }},
	{name: "RACK_BUILD_LOG_GROUP", field: func(r *Resources) *string { return &r.BuildLogGroup }},
	{name: "RACK_BUILD_SECURITY_GROUP", field: func(r *Resources) *string { return &r.BuildSecurityGroup }},
	{name: "RACK_APP_REPOSITORY_PREFIX", field: func(r *Resources) *string { return &r.AppRepositoryPrefix }},
	{name: "RACK_BUILD_CACHE_REPOSITORY_URI", field: func(r *Resources) *string { return &r.BuildCacheRepositoryURI }, optional: true},
	{name: "RACK_PASSWORD_SECRET", field: func(r *Resources) *string { return &r.PasswordSecret }, optional: true},
}

// ResourceVars are the names of the environment variables ResourcesFromEnv reads, subnets included.
func ResourceVars() []string {
	out := []string{"RACK_SUBNETS"}
	for _, v := range resourceVars {
		out = append(out, v.name)
	}
	sort.Strings(out)
	return out
}

// ResourcesFromEnv reads the resource names from the API task's environment;
// an error names every required variable that is missing.
func ResourcesFromEnv(getenv func(string) string) (Resources, error) {
	var r Resources
	var missing []string
	for _, v := range resourceVars {
		*v.field(&r) = getenv(v.name)
		if *v.field(&r) == "" && !v.optional {
			missing = append(missing, v.name)
		}
	}
	for _, s := range strings.Split(getenv("RACK_SUBNETS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			r.Subnets = append(r.Subnets, s)
		}
	}
	if len(r.Subnets) == 0 {
		missing = append(missing, "RACK_SUBNETS")
	}
	if len(missing) > 0 {
		return r, fmt.Errorf("the rack's resources are named by its task definition; missing %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// errNoResources is the error of a provider made without the stack's resource names.
var errNoResources = errors.New("the provider was made without the stack's resource names (WithResources)")
