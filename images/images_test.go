// Package images holds the build task images' Dockerfiles; its test builds
// them with hack/images.sh and runs the build binary inside each.
package images

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local/builder"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	const version = "20261130051500"
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+bk.Addr, "DOCKER_CONFIG="+cfg, "VERSION="+version)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "hack/images.sh:\n%s", out)
	assert.True(t, strings.HasSuffix(string(out), "\nImageRegistry="+reg.Host+"\n"), "hack/images.sh does not end with the ImageRegistry value:\n%s", out)
	for _, tc := range []struct {
		tag  string
		args []string
		want string
	}{
		{"ec2", []string{"-h"}, "usage: build"},
		{"ec2", []string{"--entrypoint", "docker", "IMAGE", "buildx", "version"}, "github.com/docker/buildx"},
		{"fargate", []string{"-h"}, "usage: build"},
		{"fargate", []string{"--entrypoint", "/kaniko/executor", "IMAGE", "version"}, "Kaniko version"},
		{"api", []string{"version"}, version + "\n"},
		{"buildkit", []string{"--entrypoint", "buildkitd", "IMAGE", "--version"}, "github.com/moby/buildkit"},
		{"buildkit", []string{"--entrypoint", "runc", "IMAGE", "--version"}, "runc version"},
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
		if assert.NoError(t, err, "docker %s: %v\n%s", strings.Join(args[2:], " "), err, out) {
			assert.Contains(t, string(out), tc.want, "docker %s: %v\n%s", strings.Join(args[2:], " "), err, out)
		}
	}
	t.Cleanup(func() {
		for _, tag := range []string{"api", "ec2", "fargate", "buildkit"} {
			exec.Command(docker, "rmi", reg.Host+"/convox-build:"+tag).Run()
		}
	})
	t.Run("fargate image builds an app", func(t *testing.T) { fargateBuilds(t, docker, cfg, reg.Host+"/convox-build:fargate") })
	t.Run("ec2 image builds an app", func(t *testing.T) { ec2Builds(t, docker, cfg, reg.Host+"/convox-build:ec2") })
}

// ec2Builds runs real builds in the ec2 image as ECS runs the build task on
// an EC2 host: a container on the host network with the host's Docker socket,
// building on a docker-container builder of that engine. The rack's build
// task is a wrapper that starts the image with the task's environment.
func ec2Builds(t *testing.T, docker, cfg, ref string) {
	out, err := exec.Command(docker, "--config", cfg, "pull", ref).CombinedOutput()
	require.NoError(t, err, "docker pull %s: %v\n%s", ref, err, out)
	socket := "/var/run/docker.sock"
	if _, err := os.Stat(socket); err != nil {
		testenv.Missing(t, "the Docker engine's socket at %s", socket)
	}
	before := builderContainers(t, docker)
	t.Cleanup(func() {
		for _, c := range builderContainers(t, docker) {
			if !slices.Contains(before, c) {
				exec.Command(docker, "rm", "-f", "-v", c).Run()
			}
		}
	})
	wrapper := filepath.Join(t.TempDir(), "build-in-image")
	script := `#!/bin/sh
# the build task in the ec2 image, with the task's environment
envfile=$(mktemp)
trap 'rm -f "$envfile"' EXIT
env | grep -E '^(BUILD_[A-Z_]*|RACK_URL|BUILDKIT_IMAGE)=' > "$envfile"
echo "build task: docker run ` + ref + `"
exec ` + docker + ` run --rm --network host -v ` + socket + `:` + socket + ` --env-file "$envfile" ` + ref + ` "$@"
`
	require.NoError(t, os.WriteFile(wrapper, []byte(script), 0o755))
	r := rackenv.Start(t, rackenv.Options{Engine: true, BuildBinary: wrapper})
	for i, b := range buildTwice(t, r, "ec2") {
		assert.Contains(t, b.logs, "build task: docker run "+ref, "build %d did not run in the ec2 image:\n%s", i+1, b.logs)
		require.NotEmpty(t, b.Cache, "build %d has no cache summary", i+1)
		for _, s := range b.Cache {
			all := s.Cached == s.Steps
			assert.True(t, s.PersistentCache, "build %d: %d of %d cached, persistent %v; want every step cached: %v\n%s", i+1, s.Cached, s.Steps, s.PersistentCache, i == 1, b.logs)
			assert.Equal(t, (i == 1), all, "build %d: %d of %d cached, persistent %v; want every step cached: %v\n%s", i+1, s.Cached, s.Steps, s.PersistentCache, i == 1, b.logs)
		}
	}
}

// built is a finished build and its logs.
type built struct {
	*structs.Build
	logs string
}

// buildTwice turns the build cache on with method and fresh builders, builds
// one small app twice and returns both builds, each complete.
func buildTwice(t *testing.T, r *rackenv.Rack, method string) []built {
	t.Helper()
	if err := r.Client.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{
		"BuildCache": "Yes", "BuildMethod": method, "BuildEphemeral": "Yes"}}); err != nil {
		require.NoError(t, err)
	}
	_, err := r.Client.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	url := r.Upload(t, "app1", rackenv.SmallApp(t, "in-the-"+method+"-image"))
	var out []built
	for i := 1; i <= 2; i++ {
		b, err := r.Client.BuildCreate("app1", url, structs.BuildCreateOptions{})
		require.NoError(t, err)
		b, logs := r.Wait(t, "app1", b.Id, 5*time.Minute)
		require.Equal(t, structs.BuildStatusComplete, b.Status, "build %d in the %s image: %s %s\n%s", i, method, b.Status, b.Reason, logs)
		for _, s := range b.Cache {
			t.Logf("build %d: %s %d of %d steps cached, persistent %v", i, s.Service, s.Cached, s.Steps, s.PersistentCache)
		}
		out = append(out, built{b, logs})
	}
	return out
}

// builderContainers lists the engine's buildx builder containers.
func builderContainers(t *testing.T, docker string) []string {
	out, err := exec.Command(docker, "ps", "-a", "--filter", "name=buildx_buildkit_", "--format", "{{.Names}}").Output()
	require.NoError(t, err, "docker ps")
	return strings.Fields(string(out))
}

// fargateBuilds checks the fargate image is what the local rack's strict
// fargate runner lays out (its ENV, WORKDIR, entrypoint and files), then runs
// real builds in that runner: the second build of the same source takes its
// layers from the rack's build cache.
func fargateBuilds(t *testing.T, docker, cfg, ref string) {
	out, err := exec.Command(docker, "--config", cfg, "pull", ref).CombinedOutput()
	require.NoError(t, err, "docker pull %s: %v\n%s", ref, err, out)
	out, err = exec.Command(docker, "image", "inspect", "--format", "{{json .Config}}", ref).Output()
	require.NoError(t, err, "docker image inspect %s", ref)
	var config struct {
		Env        []string
		WorkingDir string
		Entrypoint []string
	}
	require.NoError(t, json.Unmarshal(out, &config))
	assert.ElementsMatch(t, builder.FargateImageEnv, config.Env, "the fargate image's ENV and the local fargate runner's differ")
	assert.Equal(t, builder.FargateWorkingDir, config.WorkingDir)
	assert.Equal(t, []string{builder.ContainerBuild}, config.Entrypoint)
	out, err = exec.Command(docker, "run", "--rm", "--entrypoint", "/busybox/busybox", ref, "ls", builder.ContainerExecutor, builder.ContainerBuild,
		"/etc/nsswitch.conf", "/kaniko/ssl/certs/ca-certificates.crt").CombinedOutput()
	assert.NoError(t, err, "the fargate image lacks a file the runner's rootfs has:\n%s", out)

	r := rackenv.Start(t, rackenv.Options{Engine: true})
	for i, b := range buildTwice(t, r, "fargate") {
		assert.Contains(t, b.logs, "in a fresh runc container", "build %d did not run in the strict runner:\n%s", i+1, b.logs)
		require.NotEmpty(t, b.Cache, "build %d has no cache summary", i+1)
		for _, s := range b.Cache {
			cached := s.Cached > 0
			assert.True(t, s.PersistentCache, "build %d: %d of %d cached, persistent %v; want cached layers: %v", i+1, s.Cached, s.Steps, s.PersistentCache, i == 1)
			assert.Equal(t, (i == 1), cached, "build %d: %d of %d cached, persistent %v; want cached layers: %v", i+1, s.Cached, s.Steps, s.PersistentCache, i == 1)
		}
	}
}
