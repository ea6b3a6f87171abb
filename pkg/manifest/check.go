package manifest

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/convox/rack/pkg/manifest/yamlnode"
)

var (
	// nameRE is what Convox allows for service, resource and timer names:
	// they become DNS labels, image tags and stack resource names.
	nameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// nameRule says what nameRE allows, for messages.
const nameRule = "lowercase letters, digits and dashes, starting with a letter, not ending with a dash, at most 63 characters"

// validate checks what the YAML structure cannot: that there are services,
// names, paths, environment entries and references between sections.
func (d *decoder) validate(m *Manifest) {
	if len(m.Services) == 0 {
		d.Add("", 0, "has no services; define at least one under services")
		return
	}
	d.CheckEnv("environment", m.Environment, 0)
	resources := map[string]bool{}
	for _, r := range m.Resources {
		scope := fmt.Sprintf("resource %q", r.Name)
		d.checkName("resource", r.Name, r.line)
		if r.Type == "" {
			d.Add(scope, r.line, "type is missing")
		}
		resources[r.Name] = true
	}
	services := map[string]bool{}
	for _, s := range m.Services {
		scope := fmt.Sprintf("service %q", s.Name)
		d.checkName("service", s.Name, s.line)
		services[s.Name] = true
		d.CheckEnv(scope+": environment", s.Environment, s.line)
		d.CheckEnv(scope+": build: args", s.Build.Args, s.line)
		if s.Built() {
			d.checkPath(scope+": build: path", s.Build.Path, s.line)
			d.checkManifest(scope+": build: manifest", s.Build, s.line)
		}
		for _, r := range s.Resources {
			if !resources[r] {
				d.Add(scope, s.line, "resources: %q is not defined under the top-level resources", r)
			}
		}
	}
	for _, t := range m.Timers {
		scope := fmt.Sprintf("timer %q", t.Name)
		d.checkName("timer", t.Name, t.line)
		for _, f := range [][2]string{{"command", t.Command}, {"schedule", t.Schedule}, {"service", t.Service}} {
			if f[1] == "" {
				d.Add(scope, t.line, "%s is missing", f[0])
			}
		}
		if t.Service != "" && !services[t.Service] {
			d.Add(scope, t.line, "service: %q is not a service of this manifest", t.Service)
		}
	}
}

func (d *decoder) checkName(kind, name string, line int) {
	if !nameRE.MatchString(name) {
		d.Add("", line, "%s name %q is invalid: use %s", kind, name, nameRule)
	}
}

// checkPath requires a relative path that stays inside the source directory.
func (d *decoder) checkPath(scope, p string, line int) {
	switch {
	case strings.HasPrefix(p, "/"):
		d.Add(scope, line, "%q must be relative to the directory of the manifest", p)
	case yamlnode.Escapes(p):
		d.Add(scope, line, "%q is outside the source directory; paths may not climb out with ..", p)
	case strings.ContainsAny(p, "\\\x00"):
		d.Add(scope, line, "%q must use / as separator and no NUL characters", p)
	}
}

// checkManifest requires a Dockerfile name relative to the build path that
// stays inside the source directory.
func (d *decoder) checkManifest(scope string, b ServiceBuild, line int) {
	switch m := b.Manifest; {
	case strings.HasPrefix(m, "/"):
		d.Add(scope, line, "%q must be relative to the build path", m)
	case !yamlnode.NamesFile(m):
		d.Add(scope, line, "%q must name a file", m)
	default:
		d.checkPath(scope, path.Join(b.Path, m), line)
	}
}
