package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var base = map[string]string{"BUILD_APP": "myapp", "BUILD_ID": "B1", "BUILD_URL": "object://myapp/tmp/src.tgz", "BUILD_PUSH": "127.0.0.1:5000/myapp"}

// TestParse: the contract comes from buildtask.Parse, the engines from the host's environment.
func TestParse(t *testing.T) {
	e := map[string]string{"BUILD_METHOD": "fargate", "BUILD_REGISTRY_MIRROR": "127.0.0.1:5000", "KANIKO_EXECUTOR": "/k/e",
		"KANIKO_IMAGE": "kaniko:1", "BUILDKIT_HOST": "unix:///b.sock", "BUILDKIT_IMAGE": "bk:1", "DOCKER_BIN": "/bin/docker"}
	for k, v := range base {
		e[k] = v
	}
	o, err := parse([]string{"-cache=false"}, env(e))
	require.NoError(t, err)
	want, err := buildtask.Parse([]string{"-cache=false"}, env(e))
	require.NoError(t, err)
	assert.Equal(t, want, o.Spec)
	assert.Equal(t, "/k/e", o.Engine.KanikoExecutor)
	assert.Equal(t, "kaniko:1", o.Engine.KanikoImage)
	assert.Equal(t, "unix:///b.sock", o.Engine.BuildKitHost)
	assert.Equal(t, "bk:1", o.Engine.BuildKitImage)
	assert.Equal(t, "/bin/docker", o.Engine.Docker)
	assert.Equal(t, "127.0.0.1:5000", o.Engine.Mirror, "the contract's mirror reaches the engines")

	_, err = parse([]string{"-method", "lambda"}, env(base))
	assert.ErrorContains(t, err, "method must be ec2 or fargate")
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-h"}, env(base), &out))
	assert.Contains(t, out.String(), "usage: build")
	assert.Contains(t, out.String(), "BUILD_CACHE_REPO")
	assert.Contains(t, out.String(), "KANIKO_IMAGE")
}
