package builder

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build/engine"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEphemeralEngineRemovesBuilders: each build on an ephemeral engine host
// gets a builder of its own name; once builds end, each is removed in the
// background (record, node container and state volume), and Wait waits for it.
func TestEphemeralEngineRemovesBuilders(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	image := testenv.BuildKitImage(t)
	cfg := testenv.DockerConfigWithBuildx(t)
	h := &Engine{Docker: docker, DockerConfig: cfg, BuildKitImage: image, Ephemeral: true, Env: os.Environ()}
	env := append(os.Environ(), "DOCKER_CONFIG="+cfg)
	sh := func(args ...string) string {
		cmd := exec.Command(docker, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	exists := func(args ...string) bool {
		cmd := exec.Command(docker, args...)
		cmd.Env = env
		return cmd.Run() == nil
	}
	var names []string
	for _, id := range []string{"BEPHA", "BEPHB"} {
		vars, release, err := h.Acquire(context.Background(), Task{ID: id, Out: io.Discard})
		require.NoError(t, err)
		name := "convox-" + strings.ToLower(id)
		require.Contains(t, vars, "BUILDER_NAME="+name, "each build names its own builder")
		// what cmd/build makes of it: the record and a node container with its state volume
		node := engine.NodeContainer(name)
		sh("buildx", "create", "--name", name, "--driver", "docker-container", "--driver-opt", "image="+image)
		sh("run", "-d", "--name", node, "-v", node+"_state:/var/lib/buildkit", "--entrypoint", "/bin/sh", image, "-c",
			"mkdir -p /var/lib/buildkit/runc-overlayfs/snapshots/1/fs && seq 1 500 | sed 's|^|/var/lib/buildkit/runc-overlayfs/snapshots/1/fs/f|' | xargs touch && exec sleep 600")
		names = append(names, name)
		release()
	}
	h.Wait()
	for _, name := range names {
		node := engine.NodeContainer(name)
		assert.False(t, exists("container", "inspect", node), "%s left running", node)
		assert.False(t, exists("volume", "inspect", node+"_state"), "%s_state left", node)
		assert.False(t, exists("buildx", "inspect", name), "builder %s still recorded", name)
	}
}
