package testenv

import (
	"os/exec"
	"strings"
	"testing"
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
		if err != nil || len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("%s in %s: %v: %s", cmd[0], img, err, out)
		}
	}
}
