// Package images holds the build task images' Dockerfiles; its test builds
// them with hack/images.sh and runs the build binary inside each.
package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convox/rack/internal/testenv"
)

func TestImagesBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	docker := testenv.RequireDockerEngine(t)
	testenv.Tool(t, "buildctl")
	reg := testenv.StartRegistry(t)
	testenv.SeedBaseImages(t, reg)
	bk := testenv.StartBuildKit(t, reg)
	cfg := testenv.DockerConfig(t, reg)

	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "hack", "images.sh"), reg.Host)
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+bk.Addr, "DOCKER_CONFIG="+cfg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/images.sh: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		tag  string
		args []string
		want string
	}{
		{"ec2", []string{"-h"}, "usage: build"},
		{"ec2", []string{"--entrypoint", "docker", "IMAGE", "buildx", "version"}, "github.com/docker/buildx"},
		{"fargate", []string{"-h"}, "usage: build"},
		{"fargate", []string{"--entrypoint", "/kaniko/executor", "IMAGE", "version"}, "Kaniko version"},
	} {
		ref := reg.Host + "/convox-build:" + tc.tag
		args := []string{"--config", cfg, "run", "--rm"}
		if tc.args[0] == "--entrypoint" {
			for _, a := range tc.args {
				if a == "IMAGE" {
					a = ref
				}
				args = append(args, a)
			}
		} else {
			args = append(append(args, ref), tc.args...)
		}
		out, err := exec.Command(docker, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("docker %s: %v\n%s", strings.Join(args[2:], " "), err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command(docker, "rmi", reg.Host+"/convox-build:ec2", reg.Host+"/convox-build:fargate").Run()
	})
}
