package manifest1

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/convox/rack/pkg/manifest/yamlnode"
)

var (
	// nameRE is what generation 1 allows for service names: compose names
	// without dots, which would clash with image tags.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
)

// nameRule says what nameRE allows, for messages.
const nameRule = "letters, digits, dashes and underscores, starting with a letter or digit, at most 63 characters"

// validate checks what the YAML structure cannot: names, paths, environment
// entries and links between services.
func (d *decoder) validate(m *Manifest) {
	names := map[string]bool{}
	for _, s := range m.Services {
		names[s.Name] = true
	}
	for _, s := range m.Services {
		scope := fmt.Sprintf("service %q", s.Name)
		if !nameRE.MatchString(s.Name) {
			d.Add("", s.line, "service name %q is invalid: use %s", s.Name, nameRule)
		}
		d.CheckEnv(scope+": environment", s.Environment, s.line)
		d.CheckEnv(scope+": build: args", s.Build.Args, s.line)
		if s.Built() {
			d.checkPaths(scope, s.Build, s.line)
		}
		for _, l := range s.Links {
			target, _, _ := strings.Cut(l, ":")
			if !names[target] {
				d.Add(scope, s.line, "links: %q is not a service of this file", target)
			}
		}
	}
}

// checkPaths requires a relative build context and Dockerfile that stay
// inside the source directory.
func (d *decoder) checkPaths(scope string, b Build, line int) {
	switch c := b.Context; {
	case strings.HasPrefix(c, "/"):
		d.Add(scope, line, "build: context: %q must be relative to the directory of the manifest", c)
		return
	case yamlnode.Escapes(c):
		d.Add(scope, line, "build: context: %q is outside the source directory; paths may not climb out with ..", c)
		return
	}
	switch f := b.Dockerfile; {
	case strings.HasPrefix(f, "/"):
		d.Add(scope, line, "dockerfile: %q must be relative to the build context", f)
	case !yamlnode.NamesFile(f):
		d.Add(scope, line, "dockerfile: %q must name a file", f)
	case yamlnode.Escapes(path.Join(b.Context, f)):
		d.Add(scope, line, "dockerfile: %q is outside the source directory; paths may not climb out with ..", path.Join(b.Context, f))
	}
}
