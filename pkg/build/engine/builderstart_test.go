package engine

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// TestBuilderStartRunArgs: the node container is the one buildx would make
// (its name, state volume, --init, host network) with the config in its
// environment; privileged, or every listed capability instead.
func TestBuilderStartRunArgs(t *testing.T) {
	s := builderStart{image: "reg/rack:buildkit", builder: "convox-b1", toml: "[registry.\"127.0.0.1:5000\"]\n  http = true\n"}
	for _, privileged := range []bool{true, false} {
		args := s.runArgs(privileged)
		line := strings.Join(args, " ")
		assert.Equal(t, "run", args[0])
		assert.Contains(t, line, "--name buildx_buildkit_convox-b10 ")
		assert.Contains(t, line, "-v buildx_buildkit_convox-b10_state:/var/lib/buildkit")
		assert.Contains(t, line, "--init --network host")
		assert.Contains(t, args, "BUILDKITD_TOML="+s.toml, "the config travels whole in one argument")
		assert.Equal(t, "reg/rack:buildkit", args[len(args)-3], "the image, then the shell's script")
		assert.Contains(t, args[len(args)-1], "exec buildkitd --config /etc/buildkit/buildkitd.toml")
		assert.Equal(t, privileged, strings.Contains(line, "--privileged"))
		if !privileged {
			assert.Equal(t, len(capabilities), strings.Count(line, "--cap-add "))
			assert.NotContains(t, line, "SYS_RESOURCE")
		}
	}
}

// A started builder answers; a daemon that cannot start fails the start
// with its own last words.
func TestBuilderStartOnEngine(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	image := testenv.BuildKitImage(t)
	env := os.Environ()
	start := func(t *testing.T, toml string) (builderStart, error) {
		s := builderStart{env: env, docker: docker, image: image, builder: "convox-test-" + randomHex(4),
			toml: toml, memo: capsMemo{dir: t.TempDir(), kind: "test"}, out: io.Discard}
		t.Cleanup(func() {
			_, _ = output(context.Background(), env, docker, "rm", "-f", s.container())
			_, _ = output(context.Background(), env, docker, "volume", "rm", "-f", s.container()+"_state")
		})
		return s, s.start(context.Background())
	}
	t.Run("answers", func(t *testing.T) {
		s, err := start(t, BuildKitdConfig("", []string{"127.0.0.1:5000"}))
		require.NoError(t, err)
		msg, err := output(context.Background(), env, docker, "exec", s.container(), "buildctl", "debug", "workers")
		require.NoError(t, err, msg)
		assert.Contains(t, msg, "linux/amd64")
	})
	t.Run("daemon fails", func(t *testing.T) {
		_, err := start(t, "this is [not toml\n")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "did not start")
		assert.Contains(t, err.Error(), "toml", "the daemon's own error about its config")
	})
}

// The readiness script gives up after its timeout with the daemon's last
// answer, in a container where no daemon runs.
func TestReadyScriptTimesOut(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	image := testenv.BuildKitImage(t)
	name := "convox-ready-" + randomHex(4)
	msg, err := output(context.Background(), nil, docker, "run", "-d", "--name", name, "--entrypoint", "sleep", image, "60")
	require.NoError(t, err, msg)
	defer output(context.Background(), nil, docker, "rm", "-f", name)
	msg, err = output(context.Background(), nil, docker, "exec", name, "/bin/sh", "-c", readyScript(time.Second))
	require.Error(t, err)
	assert.Contains(t, msg, "no answer in 1s")
	assert.Contains(t, msg, "buildkitd.sock", "buildctl's own reason")
}
