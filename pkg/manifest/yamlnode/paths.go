package yamlnode

import (
	"path"
	"regexp"
	"strings"
)

// envName is a POSIX environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Escapes reports whether a relative path leaves its root.
func Escapes(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

// NamesFile reports whether p can name a file: not a directory like "",
// ".", ".." or "dir/".
func NamesFile(p string) bool {
	base := path.Base(p)
	return !strings.HasSuffix(p, "/") && base != "." && base != ".."
}

// CheckEnv requires NAME or NAME=value entries with valid, unique names.
func (p *Problems) CheckEnv(scope string, entries []string, line int) {
	seen := map[string]bool{}
	for _, e := range entries {
		name, _, _ := strings.Cut(e, "=")
		if !envName.MatchString(name) {
			p.Add(scope, line, "%q must be NAME or NAME=value, where NAME is letters, digits and underscores not starting with a digit", e)
			continue
		}
		if seen[name] {
			p.Add(scope, line, "%s is set more than once", name)
		}
		seen[name] = true
	}
}
