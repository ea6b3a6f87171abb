package manifest1

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

var (
	// nameRE is what generation 1 allows for service names: compose names
	// without dots, which would clash with image tags.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	// envRE is a POSIX environment variable name.
	envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
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
		d.checkEnv(scope+": environment", s.Environment, s.line)
		d.checkEnv(scope+": build: args", s.Build.Args, s.line)
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
	case escapes(c):
		d.Add(scope, line, "build: context: %q is outside the source directory; paths may not climb out with ..", c)
		return
	}
	switch f := b.Dockerfile; {
	case strings.HasPrefix(f, "/"):
		d.Add(scope, line, "dockerfile: %q must be relative to the build context", f)
	case !namesFile(f):
		d.Add(scope, line, "dockerfile: %q must name a file", f)
	case escapes(path.Join(b.Context, f)):
		d.Add(scope, line, "dockerfile: %q is outside the source directory; paths may not climb out with ..", path.Join(b.Context, f))
	}
}

// escapes reports whether a relative path leaves its root.
func escapes(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

// checkEnv requires NAME or NAME=value entries with valid, unique names.
func (d *decoder) checkEnv(scope string, entries []string, line int) {
	seen := map[string]bool{}
	for _, e := range entries {
		name, _, _ := strings.Cut(e, "=")
		if !envRE.MatchString(name) {
			d.Add(scope, line, "%q must be NAME or NAME=value, where NAME is letters, digits and underscores not starting with a digit", e)
			continue
		}
		if seen[name] {
			d.Add(scope, line, "%s is set more than once", name)
		}
		seen[name] = true
	}
}

// namesFile reports whether p can name a file: not a directory like "",
// ".", ".." or "dir/".
func namesFile(p string) bool {
	base := path.Base(p)
	return !strings.HasSuffix(p, "/") && base != "." && base != ".."
}
