package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSmokeBuildAndPush builds FROM debian:bookworm-slim with a RUN step on a
// real BuildKit with runc, pushes with basic auth and reads the manifest back.
func TestSmokeBuildAndPush(t *testing.T) {
	buildctl := Tool(t, "buildctl")
	reg := StartRegistry(t)
	SeedBaseImages(t, reg)
	bk := StartBuildKit(t, reg)

	dir := t.TempDir()
	dockerfile := "FROM debian:bookworm-slim\nRUN echo built-by-runc > /proof && cat /etc/debian_version\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	ref := reg.Host + "/smoke:1"
	cmd := exec.Command(buildctl, "--addr", bk.Addr, "build",
		"--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir,
		"--output", "type=image,name="+ref+",push=true",
		"--progress", "plain")
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+DockerConfig(t, reg))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "buildctl build: %v\n%s\n%s", err, out, bk.Logs())
	assert.Contains(t, string(out), "RUN echo built-by-runc", "build output does not show the RUN step:\n%s", out)

	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	// Without credentials the registry refuses: auth is real.
	_, err = remote.Head(tag)
	require.Error(t, err, "registry answered without credentials")
	desc, err := remote.Get(tag, remote.WithAuth(reg.Auth()))
	require.NoError(t, err, "reading manifest back")
	img, err := desc.Image()
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	assert.Len(t, layers, 2, "image has %d layers, want the debian layer plus the RUN layer", len(layers))
}
