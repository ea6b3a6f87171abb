package formation

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fargate build container as the template gives it: its environment, no
// mounts, no privileges, no added capability; the cache repository's URI is
// known only once deployed.
func TestBuildTaskContainerFargate(t *testing.T) {
	params := maps.Clone(required)
	params["BuildMethod"], params["BuildCache"] = "fargate", "Yes"
	c, err := BuildTaskContainer(Stack{Name: "rack1", Params: params}, "fargate")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"AWS_REGION": "us-east-1", "BUILD_CACHE": "true", "BUILD_CACHE_TTL": "87600h", "BUILD_METHOD": "fargate",
		"DOCKER_BUILDKIT": "1", "RACK_NAME": "rack1"}, c.Env)
	assert.Equal(t, []string{"BUILD_CACHE_REPO"}, c.Deployed)
	assert.Empty(t, c.CapAdd)
	assert.False(t, c.Privileged)
	assert.Zero(t, c.MountPoints)
	assert.Zero(t, c.Volumes)
	assert.True(t, c.RequiresFargate)

	ec2, err := BuildTaskContainer(Stack{Name: "rack1", Params: params}, "ec2")
	require.NoError(t, err)
	assert.Equal(t, 1, ec2.MountPoints, "the ec2 build task mounts the host's Docker socket")
	assert.False(t, ec2.RequiresFargate)
	_, err = BuildTaskContainer(Stack{Name: "rack1", Params: params}, "lambda")
	assert.Error(t, err)
}
