package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// The cache builder never falls back to buildx's default BuildKit image from
// Docker Hub: without BUILDKIT_IMAGE the ec2 engine is the host engine's docker build.
func TestEC2WithoutBuildKitImage(t *testing.T) {
	testenv.Tool(t, "docker")
	cfg := Config{DockerConfig: testenv.DockerConfigWithBuildx(t)}
	eng, out := requireHostEngine(t, cfg)
	assert.True(t, eng.(*docker).buildkit, "BuildKit in the host engine")
	assert.Contains(t, out.String(), "WARNING: no BuildKit image for the cache builder")
	assert.NotContains(t, out.String(), "Creating buildx builder")
}

// A buildx plugin binary that does not run is no buildx: the ec2 engine is
// the host engine's docker build, found when the builder's record fails, and
// no builder container was started.
func TestEC2WithBrokenBuildxPlugin(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cli-plugins", "docker-buildx"), []byte("#!/bin/sh\necho broken >&2\nexit 1\n"), 0o755))
	builder := "convox-broken-" + randomHex(4)
	cfg := Config{DockerConfig: dir, BuildKitImage: "convox-rack-buildkit:never-run", Builder: builder}
	requireHostEngine(t, cfg)
	assert.Error(t, exec.Command(docker, "container", "inspect", NodeContainer(builder)).Run(), "a builder container was started")
}

// requireHostEngine starts the ec2 engine of cfg and checks it is the host
// engine's docker build, not buildx; it returns the engine and its output.
func requireHostEngine(t *testing.T, cfg Config) (Engine, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	eng, buildx, err := NewEC2(context.Background(), cfg, nil, &out)
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	assert.False(t, buildx)
	assert.Equal(t, "docker", eng.Name())
	return eng, &out
}
