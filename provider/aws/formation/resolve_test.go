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
)

func resolve(t *testing.T, values map[string]string) *Resolved {
	t.Helper()
	all := maps.Clone(required)
	maps.Copy(all, values)
	r, err := Resolve(Stack{Name: "convox", Params: all})
	if err != nil {
		t.Fatalf("Resolve(%v): %v", values, err)
	}
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
	if !ok {
		t.Fatalf("no resource %s", taskDef)
	}
	containers := res.Properties["ContainerDefinitions"].([]any)
	env := map[string]any{}
	for _, kv := range containers[0].(map[string]any)["Environment"].([]any) {
		m := kv.(map[string]any)
		env[m["Name"].(string)] = m["Value"]
	}
	return env
}

var cacheRepoURI = map[string]any{"Fn::GetAtt": []any{"BuildCacheRepository", "RepositoryUri"}}

// BuildCache No -> Yes -> No adds the cache repository (and, on fargate, the EFS cache) and takes it all away again.
func TestBuildCacheTransition(t *testing.T) {
	for _, method := range []string{"ec2", "fargate"} {
		t.Run(method, func(t *testing.T) {
			off := resolve(t, map[string]string{"BuildMethod": method})
			on := resolve(t, map[string]string{"BuildMethod": method, "BuildCache": "Yes"})
			offAgain := resolve(t, map[string]string{"BuildMethod": method, "BuildCache": "No"})

			added := difference(on.names(), off.names())
			want := []string{"BuildCachePolicy", "BuildCacheRepository"}
			if method == "fargate" {
				want = []string{"BuildCachePolicy", "BuildCacheRepository", "CacheAccessPoint", "CacheFileSystem",
					"CacheFileSystemPolicy", "CacheMountTarget0", "CacheMountTarget1", "CacheSecurityGroup"}
			}
			if !slices.Equal(added, want) {
				t.Errorf("BuildCache=Yes adds %v, want %v", added, want)
			}
			if removed := difference(off.names(), on.names()); len(removed) > 0 {
				t.Errorf("BuildCache=Yes removes %v", removed)
			}
			if !reflect.DeepEqual(off.Resources, offAgain.Resources) || !reflect.DeepEqual(off.Outputs, offAgain.Outputs) {
				t.Error("BuildCache back to No does not give the stack it started from")
			}

			repo := on.Resources["BuildCacheRepository"].Properties
			if repo["RepositoryName"] != "convox-build-cache" || repo["ImageTagMutability"] != "MUTABLE" || repo["EmptyOnDelete"] != true {
				t.Errorf("cache repository properties = %v", repo)
			}
			for _, def := range []string{"BuildTaskDefinitionEc2", "BuildTaskDefinitionFargate"} {
				if env := environment(t, off, def); env["BUILD_CACHE"] != "false" || env["BUILD_CACHE_REPO"] != "" {
					t.Errorf("%s with the cache off: %v", def, env)
				}
				if env := environment(t, on, def); env["BUILD_CACHE"] != "true" || !reflect.DeepEqual(env["BUILD_CACHE_REPO"], cacheRepoURI) {
					t.Errorf("%s with the cache on: %v", def, env)
				}
			}
			if _, ok := off.Outputs["BuildCacheRepositoryUri"]; ok {
				t.Error("BuildCacheRepositoryUri is an output while the cache is off")
			}
			if !reflect.DeepEqual(on.Outputs["BuildCacheRepositoryUri"], cacheRepoURI) {
				t.Errorf("BuildCacheRepositoryUri = %v", on.Outputs["BuildCacheRepositoryUri"])
			}
		})
	}
}

// The Fargate task mounts the EFS cache at kaniko's cache directory only while it exists.
func TestFargateCacheMount(t *testing.T) {
	on := resolve(t, map[string]string{"BuildMethod": "fargate", "BuildCache": "Yes"})
	def := on.Resources["BuildTaskDefinitionFargate"].Properties
	volumes := def["Volumes"].([]any)
	efs := volumes[0].(map[string]any)["EFSVolumeConfiguration"].(map[string]any)
	if !reflect.DeepEqual(efs["FilesystemId"], map[string]any{"Ref": "CacheFileSystem"}) || efs["TransitEncryption"] != "ENABLED" {
		t.Errorf("fargate cache volume = %v", efs)
	}
	container := def["ContainerDefinitions"].([]any)[0].(map[string]any)
	mount := container["MountPoints"].([]any)[0].(map[string]any)
	if mount["ContainerPath"] != "/cache" || mount["SourceVolume"] != "cache" {
		t.Errorf("fargate cache mount = %v", mount)
	}
	if fs := on.Resources["CacheFileSystem"].Properties; fs["Encrypted"] != true {
		t.Errorf("cache file system is not encrypted: %v", fs)
	}
	ingress := on.Resources["CacheSecurityGroup"].Properties["SecurityGroupIngress"].([]any)
	rule := ingress[0].(map[string]any)
	if len(ingress) != 1 || rule["FromPort"] != json.Number("2049") || rule["ToPort"] != json.Number("2049") ||
		!reflect.DeepEqual(rule["SourceSecurityGroupId"], map[string]any{"Ref": "BuildSecurityGroup"}) {
		t.Errorf("cache security group ingress = %v", ingress)
	}

	for _, values := range []map[string]string{
		{"BuildMethod": "fargate", "BuildCache": "No"},
		{"BuildMethod": "ec2", "BuildCache": "Yes"},
	} {
		r := resolve(t, values)
		def := r.Resources["BuildTaskDefinitionFargate"].Properties
		container := def["ContainerDefinitions"].([]any)[0].(map[string]any)
		if _, ok := def["Volumes"]; ok {
			t.Errorf("%v: fargate task has volumes %v", values, def["Volumes"])
		}
		if _, ok := container["MountPoints"]; ok {
			t.Errorf("%v: fargate container has mounts %v", values, container["MountPoints"])
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
		if err := decodeStrict(text, &policy); err != nil {
			t.Fatalf("retention %d: policy %q: %v", days, text, err)
		}
		if len(policy.Rules) != 1 {
			t.Fatalf("retention %d: %d rules in %s", days, len(policy.Rules), text)
		}
		rule := policy.Rules[0]
		if rule.RulePriority != 1 || rule.Selection.TagStatus != "any" || rule.Selection.CountType != "sinceImagePushed" ||
			rule.Selection.CountUnit != "days" || rule.Selection.CountNumber != days || rule.Action.Type != "expire" {
			t.Errorf("retention %d: rule %+v", days, rule)
		}

		off := resolve(t, map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "No", "BuildCacheRetentionDays": fmt.Sprint(days)})
		if text := lifecyclePolicy(t, off); text != "" {
			t.Errorf("retention %d without cleanup has a lifecycle policy: %s", days, text)
		}
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
			if err != nil || d != time.Duration(days)*24*time.Hour || ttl != fmt.Sprintf("%dh", days*24) {
				t.Fatalf("%s retention %d: BUILD_CACHE_TTL %q (%v)", def, days, ttl, err)
			}
		}
	}
	r := resolve(t, map[string]string{"BuildCacheCleanup": "No", "BuildCacheRetentionDays": "1"})
	ttl, _ := environment(t, r, "BuildTaskDefinitionEc2")["BUILD_CACHE_TTL"].(string)
	if d, err := time.ParseDuration(ttl); err != nil || d < 3650*24*time.Hour {
		t.Errorf("BUILD_CACHE_TTL without cleanup = %q, want at least ten years", ttl)
	}
}

// The rest of the build task contract, and BuildImage overriding the default image.
func TestBuildTaskEnvironment(t *testing.T) {
	r := resolve(t, nil)
	for def, method := range map[string]string{"BuildTaskDefinitionEc2": "ec2", "BuildTaskDefinitionFargate": "fargate"} {
		env := environment(t, r, def)
		if env["BUILD_METHOD"] != method || env["DOCKER_BUILDKIT"] != "1" || env["RACK_NAME"] != "convox" {
			t.Errorf("%s environment = %v", def, env)
		}
		image := r.Resources[def].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)["Image"]
		if image != required["ImageRegistry"]+"/convox-build:"+method {
			t.Errorf("%s default image = %v", def, image)
		}
		custom := resolve(t, map[string]string{"BuildImage": "registry.example/builder:1"})
		image = custom.Resources[def].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)["Image"]
		if image != "registry.example/builder:1" {
			t.Errorf("%s with BuildImage = %v", def, image)
		}
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
		if _, err := Resolve(Stack{Name: "convox", Params: values}); err == nil {
			t.Errorf("Resolve accepted %v", values)
		}
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

// The ec2 build host group exists only for the ec2 method, registered into the build cluster.
func TestEc2BuildHosts(t *testing.T) {
	hosts := []string{"BuildInstanceProfile", "BuildInstanceRole", "BuildInstances", "BuildLaunchTemplate"}
	ec2 := resolve(t, map[string]string{"BuildMethod": "ec2"})
	fargate := resolve(t, map[string]string{"BuildMethod": "fargate"})
	if got := difference(ec2.names(), fargate.names()); !slices.Equal(got, hosts) {
		t.Errorf("ec2 method adds %v, want %v", got, hosts)
	}
	if got := difference(fargate.names(), ec2.names()); len(got) > 0 {
		t.Errorf("fargate method adds %v", got)
	}
	data := ec2.Resources["BuildLaunchTemplate"].Properties["LaunchTemplateData"].(map[string]any)
	userData, _ := json.Marshal(data["UserData"])
	if !strings.Contains(string(userData), `ECS_CLUSTER=${BuildCluster}`) {
		t.Errorf("build hosts do not join the build cluster: %s", userData)
	}
}
