package engine

import (
	"bytes"
	"context"
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
	var out bytes.Buffer
	eng, buildx, err := NewEC2(context.Background(), cfg, nil, &out)
	require.NoError(t, err)
	defer eng.Close()
	assert.False(t, buildx)
	assert.Equal(t, "docker", eng.Name())
	assert.True(t, eng.(*docker).buildkit, "BuildKit in the host engine")
	assert.Contains(t, out.String(), "WARNING: no BuildKit image for the cache builder")
	assert.NotContains(t, out.String(), "Creating buildx builder")
}
