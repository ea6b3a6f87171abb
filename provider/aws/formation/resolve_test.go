package formation

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/params"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func resolve(t *testing.T, values map[string]string) *Resolved {
	t.Helper()
	all := maps.Clone(required)
	maps.Copy(all, values)
	r, err := Resolve(Stack{Name: "convox", Params: all})
	require.NoError(t, err, "Resolve(%v)", values)
	return r
}

// names lists the resources that exist, sorted.
func (r *Resolved) names() []string {
	out := make([]string, 0, len(r.Resources))
	for name := range r.Resources {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// environment is the build container's environment of a task definition.
func environment(t *testing.T, r *Resolved, taskDef string) map[string]any {
	t.Helper()
	res, ok := r.Resources[taskDef]
	require.True(t, ok, "no resource %s", taskDef)
	containers := res.Properties["ContainerDefinitions"].([]any)
	env := map[string]any{}
	for _, kv := range containers[0].(map[string]any)["Environment"].([]any) {
		m := kv.(map[string]any)
		env[m["Name"].(string)] = m["Value"]
	}
	return env
}

var cacheRepoURI = map[string]any{"Fn::GetAtt": []any{"BuildCacheRepository", "RepositoryUri"}}

// BuildCache No -> Yes -> No adds the cache repository, on either method, and takes it away again. No IAM
// resource changes: the build task role always names the cache repository, so the stack's update role
// never creates or edits a policy.
func TestBuildCacheTransition(t *testing.T) {
	for _, method := range []string{"ec2", "fargate"} {
		t.Run(method, func(t *testing.T) {
			off := resolve(t, map[string]string{"BuildMethod": method})
			on := resolve(t, map[string]string{"BuildMethod": method, "BuildCache": "Yes"})
			offAgain := resolve(t, map[string]string{"BuildMethod": method, "BuildCache": "No"})

			added := difference(on.names(), off.names())
			want := []string{"BuildCacheRepository"}
			assert.True(t, slices.Equal(added, want), "BuildCache=Yes adds %v, want %v", added, want)
			removed := difference(off.names(), on.names())
			assert.Empty(t, removed, "BuildCache=Yes removes %v", removed)
			assert.True(t, reflect.DeepEqual(off.Resources, offAgain.Resources), "BuildCache back to No does not give the stack it started from")
			assert.True(t, reflect.DeepEqual(off.Outputs, offAgain.Outputs), "BuildCache back to No does not give the stack it started from")

			repo := on.Resources["BuildCacheRepository"].Properties
			assert.EqualValues(t, "convox-build-cache", repo["RepositoryName"], "cache repository properties = %v", repo)
			assert.EqualValues(t, "MUTABLE", repo["ImageTagMutability"], "cache repository properties = %v", repo)
			assert.EqualValues(t, true, repo["EmptyOnDelete"], "cache repository properties = %v", repo)
			for _, def := range []string{"BuildTaskDefinitionEc2", "BuildTaskDefinitionFargate"} {
				env := environment(t, off, def)
				assert.EqualValues(t, "false", env["BUILD_CACHE"], "%s with the cache off: %v", def, env)
				assert.Empty(t, env["BUILD_CACHE_REPO"], "%s with the cache off: %v", def, env)
				env = environment(t, on, def)
				assert.EqualValues(t, "true", env["BUILD_CACHE"], "%s with the cache on: %v", def, env)
				assert.True(t, reflect.DeepEqual(env["BUILD_CACHE_REPO"], cacheRepoURI), "%s with the cache on: %v", def, env)
			}
			_, ok := off.Outputs["BuildCacheRepositoryUri"]
			assert.False(t, ok, "BuildCacheRepositoryUri is an output while the cache is off")
			assert.True(t, reflect.DeepEqual(on.Outputs["BuildCacheRepositoryUri"], cacheRepoURI), "BuildCacheRepositoryUri = %v", on.Outputs["BuildCacheRepositoryUri"])
		})
	}
}

// No parameter values give the stack a file system: no AWS::EFS resource, no
// EFS volume or mount on the Fargate build task, no elasticfilesystem action.
// kaniko's layer cache lives in the registry.
func TestNoFileSystem(t *testing.T) {
	for _, set := range matrix() {
		r := resolve(t, set)
		for name, res := range r.Resources {
			assert.False(t, strings.HasPrefix(res.Type, "AWS::EFS::"), "%v: resource %s is an %s", set, name, res.Type)
		}
		def := r.Resources["BuildTaskDefinitionFargate"].Properties
		assert.NotContains(t, def, "Volumes", "%v: fargate task has volumes %v", set, def["Volumes"])
		container := def["ContainerDefinitions"].([]any)[0].(map[string]any)
		assert.NotContains(t, container, "MountPoints", "%v: fargate container has mounts %v", set, container["MountPoints"])
		parts := map[string]any{"Outputs": r.Outputs}
		for name, res := range r.Resources {
			parts["resource "+name] = res
		}
		for part, v := range parts {
			text, err := json.Marshal(v)
			require.NoError(t, err)
			for _, word := range []string{"elasticfilesystem", "EFSVolumeConfiguration", "FileSystem"} {
				assert.False(t, strings.Contains(string(text), word), "%v: %s names %s", set, part, word)
			}
		}
	}
}

// lifecycleRule is the one rule the cache repository's policy holds.
type lifecycleRule struct {
	RulePriority int `json:"rulePriority"`
	Selection    struct {
		TagStatus   string `json:"tagStatus"`
		CountType   string `json:"countType"`
		CountUnit   string `json:"countUnit"`
		CountNumber int    `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// lifecyclePolicy returns the cache repository's policy text, "" when it has none.
func lifecyclePolicy(t *testing.T, r *Resolved) string {
	t.Helper()
	policy, ok := r.Resources["BuildCacheRepository"].Properties["LifecyclePolicy"].(map[string]any)
	if !ok {
		return ""
	}
	return policy["LifecyclePolicyText"].(string)
}

// Cleanup on: one rule expiring any image pushed more than the retention days ago; off: no policy.
func TestLifecyclePolicy(t *testing.T) {
	for _, days := range []int{1, 30, 365} {
		r := resolve(t, map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": fmt.Sprint(days)})
		text := lifecyclePolicy(t, r)
		var policy struct {
			Rules []lifecycleRule `json:"rules"`
		}
		require.NoError(t, decodeStrict(text, &policy), "retention %d: policy %q", days, text)
		require.Len(t, policy.Rules, 1, "retention %d: %d rules in %s", days, len(policy.Rules), text)
		rule := policy.Rules[0]
		assert.EqualValues(t, 1, rule.RulePriority, "retention %d: rule %+v", days, rule)
		assert.EqualValues(t, "any", rule.Selection.TagStatus, "retention %d: rule %+v", days, rule)
		assert.EqualValues(t, "sinceImagePushed", rule.Selection.CountType, "retention %d: rule %+v", days, rule)
		assert.EqualValues(t, "days", rule.Selection.CountUnit, "retention %d: rule %+v", days, rule)
		assert.Equal(t, days, rule.Selection.CountNumber, "retention %d: rule %+v", days, rule)
		assert.EqualValues(t, "expire", rule.Action.Type, "retention %d: rule %+v", days, rule)

		off := resolve(t, map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "No", "BuildCacheRetentionDays": fmt.Sprint(days)})
		text = lifecyclePolicy(t, off)
		assert.Empty(t, text, "retention %d without cleanup has a lifecycle policy: %s", days, text)
	}
}

// decodeStrict decodes JSON refusing fields the target does not name, except
// the rule's free-text description.
func decodeStrict(text string, v any) error {
	var raw map[string][]map[string]any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return err
	}
	for _, rule := range raw["rules"] {
		delete(rule, "description")
	}
	clean, _ := json.Marshal(raw)
	dec := json.NewDecoder(strings.NewReader(string(clean)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// BUILD_CACHE_TTL is the retention in hours while cleanup is on, and a decade otherwise.
func TestBuildCacheTTL(t *testing.T) {
	p, _ := params.Lookup("BuildCacheRetentionDays")
	for days := p.Min; days <= p.Max; days++ {
		r := resolve(t, map[string]string{"BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": fmt.Sprint(days)})
		for _, def := range []string{"BuildTaskDefinitionEc2", "BuildTaskDefinitionFargate"} {
			ttl, _ := environment(t, r, def)["BUILD_CACHE_TTL"].(string)
			d, err := time.ParseDuration(ttl)
			require.NoError(t, err, "%s retention %d: BUILD_CACHE_TTL %q (%v)", def, days, ttl, err)
			require.Equal(t, time.Duration(days)*24*time.Hour, d, "%s retention %d: BUILD_CACHE_TTL %q (%v)", def, days, ttl, err)
			require.Equal(t, fmt.Sprintf("%dh", days*24), ttl, "%s retention %d: BUILD_CACHE_TTL %q (%v)", def, days, ttl, err)
		}
	}
	r := resolve(t, map[string]string{"BuildCacheCleanup": "No", "BuildCacheRetentionDays": "1"})
	ttl, _ := environment(t, r, "BuildTaskDefinitionEc2")["BUILD_CACHE_TTL"].(string)
	d, err := time.ParseDuration(ttl)
	if assert.NoError(t, err, "BUILD_CACHE_TTL without cleanup = %q, want at least ten years", ttl) {
		assert.False(t, d < 3650*24*time.Hour, "BUILD_CACHE_TTL without cleanup = %q, want at least ten years", ttl)
	}
}

// The rest of the build task contract, and BuildImage overriding the default image.
func TestBuildTaskEnvironment(t *testing.T) {
	r := resolve(t, nil)
	for def, method := range map[string]string{"BuildTaskDefinitionEc2": "ec2", "BuildTaskDefinitionFargate": "fargate"} {
		env := environment(t, r, def)
		assert.Equal(t, method, env["BUILD_METHOD"], "%s environment = %v", def, env)
		assert.EqualValues(t, "1", env["DOCKER_BUILDKIT"], "%s environment = %v", def, env)
		assert.EqualValues(t, "convox", env["RACK_NAME"], "%s environment = %v", def, env)
		image := r.Resources[def].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)["Image"]
		assert.Equal(t, required["ImageRegistry"]+"/convox-build:"+method, image, "%s default image = %v", def, image)
		custom := resolve(t, map[string]string{"BuildImage": "registry.example/builder:1"})
		image = custom.Resources[def].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)["Image"]
		assert.EqualValues(t, "registry.example/builder:1", image, "%s with BuildImage = %v", def, image)
	}
}

// Values CloudFormation refuses are refused before evaluation: 0 and 366 days among them.
func TestResolveRefusesBadValues(t *testing.T) {
	for _, values := range []map[string]string{
		{"BuildCacheRetentionDays": "0"},
		{"BuildCacheRetentionDays": "366"},
		{"BuildCacheRetentionDays": "abc"},
		{"BuildCache": "maybe"},
		{"BuildMethod": "lambda"},
		{"NoSuchParameter": "x"},
	} {
		_, err := Resolve(Stack{Name: "convox", Params: values})
		assert.Error(t, err, "Resolve accepted %v", values)
	}
}

// difference lists the items of a not in b.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// The ec2 build host group exists only for the ec2 method, registered into the build cluster. Its
// instance role and profile exist on both methods, so a BuildMethod switch creates no IAM resource.
func TestEc2BuildHosts(t *testing.T) {
	hosts := []string{"BuildInstances", "BuildLaunchTemplate"}
	ec2 := resolve(t, map[string]string{"BuildMethod": "ec2"})
	fargate := resolve(t, map[string]string{"BuildMethod": "fargate"})
	got := difference(ec2.names(), fargate.names())
	assert.True(t, slices.Equal(got, hosts), "ec2 method adds %v, want %v", got, hosts)
	got = difference(fargate.names(), ec2.names())
	assert.Empty(t, got, "fargate method adds %v", got)
	data := ec2.Resources["BuildLaunchTemplate"].Properties["LaunchTemplateData"].(map[string]any)
	userData, _ := json.Marshal(data["UserData"])
	assert.Contains(t, string(userData), `ECS_CLUSTER=${BuildCluster}`, "build hosts do not join the build cluster: %s", userData)
}
