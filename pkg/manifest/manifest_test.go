package manifest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/convox/rack/internal/manifestfixtures"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGood parses each good fixture and compares it with its golden JSON.
func TestGood(t *testing.T) { manifestfixtures.Good(t, load) }

// load is Load as the fixture runner calls it.
func load(data []byte) (any, error) { return Load(data, "convox.yml") }

// TestBad checks every bad fixture fails with messages naming the file, the
// service and the field.
func TestBad(t *testing.T) {
	tests := map[string][]string{
		"empty.yml":                 {`convox.yml: is empty; it needs a services mapping`},
		"comments-only.yml":         {`convox.yml: is empty`},
		"unknown-service-field.yml": {`convox.yml: service "web": unknown field "biuld" (line 3), did you mean "build"?`},
		"unknown-top-field.yml":     {`convox.yml: unknown field "service" (line 3), did you mean "services"?`},
		"unknown-build-field.yml":   {`convox.yml: service "web": build: unknown field "dockerfile" (line 5), allowed: args, manifest, path`},
		"name-uppercase.yml":        {`convox.yml: service name "Web" is invalid: use lowercase letters, digits and dashes, starting with a letter`},
		"name-digit-first.yml":      {`service name "1web" is invalid`},
		"name-underscore.yml":       {`service name "my_web" is invalid`},
		"name-trailing-dash.yml":    {`service name "web-" is invalid`},
		"path-escapes.yml":          {`convox.yml: service "web": build: path: "../other" is outside the source directory`},
		"path-escapes-cleaned.yml":  {`service "web": build: path: "../other" is outside the source directory`},
		"path-absolute.yml":         {`convox.yml: service "web": build: path: "/src" must be relative`},
		"manifest-escapes.yml":      {`service "web": build: manifest: "../Dockerfile" is outside the source directory`},
		"manifest-dotdot.yml":       {`convox.yml: service "web": build: manifest: ".." must name a file (line 2)`},
		"manifest-absolute.yml":     {`service "web": build: manifest: "/etc/Dockerfile" must be relative to the build path`},
		"port-not-number.yml":       {`convox.yml: service "web": port: must be a number from 1 to 65535, optionally after http: or https:, got "abc" (line 3)`},
		"port-out-of-range.yml":     {`service "web": port: must be a number from 1 to 65535`, `got "70000"`},
		"environment-map.yml":       {`convox.yml: service "web": environment: must be a list of text, got a mapping (line 3)`},
		"environment-bad-names.yml": {`service "web": environment: "1FOO=bar" must be NAME or NAME=value`, `service "web": environment: BAR is set more than once`},
		"internal-not-bool.yml":     {`convox.yml: service "web": internal: must be true or false, got "maybe" (line 3)`},
		"build-list.yml":            {`convox.yml: service "web": build: must be a path or a mapping of args, manifest, path, got a list (line 3)`},
		"services-list.yml":         {`convox.yml: services: must be a mapping, got a list (line 2)`},
		"negative-numbers.yml":      {`convox.yml: service "web": health: grace: must be a whole number of 0 or more, got "-5" (line 5)`, `service "web": scale: cpu: must be a whole number of 0 or more, got "1.5" (line 7)`},
		"services-empty.yml":        {`convox.yml: has no services`},
		"services-scalar.yml":       {`convox.yml: services: must be a mapping, got "web" (line 1)`},
		"scale-bad.yml":             {`convox.yml: service "web": scale: must be a count like 2 or a range like 1-3, got "lots" (line 3)`},
		"build-and-image.yml":       {`convox.yml: service "web": has both build and image`},
		"no-services.yml":           {`convox.yml: has no services; define at least one under services`},
		"syntax.yml":                {`convox.yml: invalid YAML: `},
		"two-documents.yml":         {`convox.yml: line 3: only one YAML document is allowed`},
		"duplicate-service.yml":     {`convox.yml: services: line 4: "web" is repeated (first at line 2)`},
		"resource-undefined.yml":    {`convox.yml: service "web": resources: "database" is not defined under the top-level resources`},
		"timer-incomplete.yml":      {`convox.yml: timer "nightly": command is missing`, `timer "nightly": schedule is missing`, `timer "nightly": service: "worker" is not a service of this manifest`},
		"command-list.yml":          {`convox.yml: service "web": command: must be text, got a list (line 3)`},
		"many-problems.yml": {
			`service "Web": unknown field "biuld"`,
			`service "Web": port: must be a number`,
		},
	}
	manifestfixtures.Bad(t, load, tests)
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load([]byte("services:\n  Web:\n    biuld: .\n    port: abc\n  api:\n    internal: maybe\n"), "convox.yml")
	var e *Error
	require.True(t, errors.As(err, &e), "Load = %v (%T), want *Error", err, err)
	require.Len(t, e.Problems, 3, "problems = %q, want 3 for convox.yml", e.Problems)
	require.EqualValues(t, "convox.yml", e.File, "problems = %q, want 3 for convox.yml", e.Problems)
}

func TestServicesInNameOrder(t *testing.T) {
	data, err := os.ReadFile("testdata/good/full.yml")
	require.NoError(t, err)
	m, err := Load(data, "convox.yml")
	require.NoError(t, err)
	var names []string
	for _, s := range m.Services {
		names = append(names, s.Name+"="+strconv.FormatBool(s.Built()))
	}
	assert.Equal(t, "api=true redis=false web=true", strings.Join(names, " "), "services in order, built; want sorted with redis pulled")
}
