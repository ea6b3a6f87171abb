package testenv

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBuildKitImage: the local BuildKit image runs buildkitd, buildctl and runc.
func TestBuildKitImage(t *testing.T) {
	if testing.Short() {
		t.Skip("imports an image into the Docker engine")
	}
	img := BuildKitImage(t)
	docker := Tool(t, "docker")
	for _, cmd := range [][]string{{"buildkitd", "--version"}, {"buildctl", "--version"}, {"runc", "--version"}} {
		out, err := exec.Command(docker, append([]string{"run", "--rm", "--entrypoint", cmd[0], img}, cmd[1:]...)...).CombinedOutput()
		if assert.NoError(t, err, "%s in %s: %v: %s", cmd[0], img, err, out) {
			assert.NotEmpty(t, strings.TrimSpace(string(out)), "%s in %s: %v: %s", cmd[0], img, err, out)
		}
	}
}
