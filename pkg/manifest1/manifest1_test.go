package manifest1

import (
	"errors"
	"testing"

	"github.com/convox/rack/internal/manifestfixtures"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGood parses each good fixture and compares it with its golden JSON.
func TestGood(t *testing.T) { manifestfixtures.Good(t, load) }

// load is Load as the fixture runner calls it.
func load(data []byte) (any, error) { return Load(data, "docker-compose.yml") }

// TestBad checks every bad fixture fails with messages naming the file, the
// service and the field.
func TestBad(t *testing.T) {
	tests := map[string][]string{
		"empty.yml":                 {`docker-compose.yml: is empty; it needs services`},
		"no-services.yml":           {`docker-compose.yml: has no services; define at least one under services`},
		"unknown-service-field.yml": {`docker-compose.yml: service "web": unknown field "biuld" (line 4), did you mean "build"?`},
		"unknown-top-field.yml":     {`docker-compose.yml: unknown field "volumes" (line 5), allowed: services, version`},
		"unknown-build-field.yml":   {`docker-compose.yml: service "web": build: unknown field "target" (line 6), allowed: args, context, dockerfile`},
		"version-3.yml":             {`docker-compose.yml: version "3" is not supported; use "2" (or 2.0 to 2.9) or leave version out (line 1)`},
		"name-dot.yml":              {`docker-compose.yml: service name "web.app" is invalid: use letters, digits, dashes and underscores`},
		"name-leading-dash.yml":     {`service name "-web" is invalid`},
		"context-escapes.yml":       {`docker-compose.yml: service "web": build: context: "../src" is outside the source directory`},
		"context-absolute.yml":      {`docker-compose.yml: service "web": build: context: "/src" must be relative`},
		"context-url.yml":           {`service "web": build: context: "git://example.org/app.git" must be a directory of the source, not a URL`},
		"dockerfile-escapes.yml":    {`docker-compose.yml: service "web": dockerfile: "../Dockerfile" is outside the source directory`},
		"dockerfile-dotdot.yml":     {`docker-compose.yml: service "web": dockerfile: ".." must name a file (line 1)`},
		"dockerfile-twice.yml":      {`docker-compose.yml: service "web": dockerfile is set both on the service and under build; keep one (line 3)`},
		"no-build-or-image.yml":     {`docker-compose.yml: service "web": needs build or image (line 3)`},
		"ports-map.yml":             {`docker-compose.yml: service "web": ports: must be a list of text, got a mapping (line 5)`},
		"ports-bad.yml":             {`service "web": ports: "80:3000:1" must be CONTAINER or HOST:CONTAINER`, `ports: "0" must be`, `ports: "80/sctp" must be`},
		"environment-number.yml":    {`docker-compose.yml: service "web": environment: must be a list of NAME=value or a mapping, got "3" (line 5)`},
		"environment-bad-name.yml":  {`docker-compose.yml: service "web": environment: "9LIVES=1" must be NAME or NAME=value`},
		"command-map.yml":           {`docker-compose.yml: service "web": command: must be text or a list of text, got a mapping (line 5)`},
		"privileged-not-bool.yml":   {`docker-compose.yml: service "web": privileged: must be true or false, got "sometimes" (line 5)`},
		"link-undefined.yml":        {`docker-compose.yml: service "web": links: "db" is not a service of this file`},
		"syntax.yml":                {`docker-compose.yml: invalid YAML: `},
		"duplicate-service.yml":     {`docker-compose.yml: services: line 5: "web" is repeated (first at line 3)`},
		"services-empty.yml":        {`docker-compose.yml: has no services`},
		"services-list.yml":         {`docker-compose.yml: services: must be a mapping, got a list (line 3)`},
		"v1-service-scalar.yml":     {`docker-compose.yml: service "web": must be a mapping, got "nginx" (line 1)`},
		"many-problems.yml":         {`service "Web.1": unknown field "biuld"`, `service "api": ports: "abc" must be`},
	}
	manifestfixtures.Bad(t, load, tests)
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load([]byte("services:\n  web:\n    biuld: .\n  api:\n    privileged: maybe\n    image: x\n"), "docker-compose.yml")
	var e *Error
	require.True(t, errors.As(err, &e), "Load = %v (%T), want *Error", err, err)
	require.Len(t, e.Problems, 3, "problems = %q, want 3 (unknown field, needs build or image, privileged)", e.Problems)
	require.EqualValues(t, "docker-compose.yml", e.File, "problems = %q, want 3 (unknown field, needs build or image, privileged)", e.Problems)
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in   string
		want Port
		ok   bool
	}{
		{"3000", Port{Container: 3000, Protocol: "tcp"}, true},
		{"80:3000", Port{Host: 80, Container: 3000, Protocol: "tcp"}, true},
		{"53:53/udp", Port{Host: 53, Container: 53, Protocol: "udp"}, true},
		{"65535", Port{Container: 65535, Protocol: "tcp"}, true},
		{"65536", Port{}, false},
		{"0", Port{}, false},
		{"+80", Port{}, false},
		{"80:", Port{}, false},
		{":80", Port{}, false},
		{"1.2.3.4:80:80", Port{}, false},
		{"80/sctp", Port{}, false},
		{"3000-3005", Port{}, false},
		{"", Port{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePort(tt.in)
		assert.Equal(t, tt.ok, ok, "parsePort(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		assert.Equal(t, tt.want, got, "parsePort(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
	}
}
