package formation

import (
	"fmt"
	"sort"
)

// BuildContainer is what a build task definition gives its build container,
// as evaluated for one stack: the local rack starts its strict fargate runner
// from it, so the two cannot drift.
type BuildContainer struct {
	// Env is the container definition's Environment whose values the template
	// decides; Deployed names the variables whose value only a deployment
	// knows (a repository's URI): the RunTask overrides must give them.
	Env      map[string]string
	Deployed []string
	// CapAdd are the capabilities added to the engine's default set.
	CapAdd []string
	// Privileged, MountPoints and Volumes are what ECS would give on top of the image.
	Privileged  bool
	MountPoints int
	Volumes     int
	// RequiresFargate is whether the task definition asks for Fargate.
	RequiresFargate bool
}

// BuildTaskContainer evaluates the build task definition of method ("ec2" or
// "fargate") for s and returns its one container.
func BuildTaskContainer(s Stack, method string) (BuildContainer, error) {
	r, err := Resolve(s)
	if err != nil {
		return BuildContainer{}, err
	}
	name := map[string]string{"ec2": "BuildTaskDefinitionEc2", "fargate": "BuildTaskDefinitionFargate"}[method]
	res, ok := r.Resources[name]
	if !ok {
		return BuildContainer{}, fmt.Errorf("no build task definition for method %q", method)
	}
	defs, _ := res.Properties["ContainerDefinitions"].([]any)
	if len(defs) != 1 {
		return BuildContainer{}, fmt.Errorf("%s: %d container definitions, want 1", name, len(defs))
	}
	def, _ := defs[0].(map[string]any)
	c := BuildContainer{Env: map[string]string{}}
	for _, item := range list(def["Environment"]) {
		kv, _ := item.(map[string]any)
		k, _ := kv["Name"].(string)
		if v, ok := scalar(kv["Value"]); ok {
			c.Env[k] = v
		} else {
			c.Deployed = append(c.Deployed, k)
		}
	}
	sort.Strings(c.Deployed)
	if lp, ok := def["LinuxParameters"].(map[string]any); ok {
		if caps, ok := lp["Capabilities"].(map[string]any); ok {
			for _, cap := range list(caps["Add"]) {
				s, _ := cap.(string)
				c.CapAdd = append(c.CapAdd, s)
			}
		}
	}
	c.Privileged, _ = def["Privileged"].(bool)
	c.MountPoints = len(list(def["MountPoints"]))
	c.Volumes = len(list(res.Properties["Volumes"]))
	for _, compat := range list(res.Properties["RequiresCompatibilities"]) {
		c.RequiresFargate = c.RequiresFargate || compat == "FARGATE"
	}
	return c, nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}
