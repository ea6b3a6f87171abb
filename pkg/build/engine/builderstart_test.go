package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
