package parity

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/parity/imagecmp"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/require"
)

// harness is what every case shares: one local rack building through the
// Docker engine (a docker-container buildx builder for ec2, a kaniko
// container per build for fargate), the convox CLI that packages sources as
// users do, and the two references: a BuildKit daemon with the Dockerfile
// frontend docker build runs, and plain kaniko in the rack's runner image.
type harness struct {
	rack      *rackenv.Rack
	convox    string
	reg       *testenv.Registry
	dockerCfg string
	bk        *testenv.BuildKit
	buildctl  string
	docker    string
	kaniko    string
}

func startHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		buildctl: testenv.Tool(t, "buildctl"),
		docker:   testenv.RequireDockerEngine(t),
	}
	testenv.Tool(t, "executor")
	h.rack = rackenv.Start(t, rackenv.Options{Engine: true})
	h.kaniko = testenv.KanikoImage(t)
	cfg, err := h.rack.RegistryAuth().Authorization()
	require.NoError(t, err)
	h.reg = &testenv.Registry{Host: h.rack.Registry(), Username: cfg.Username, Password: cfg.Password}
	h.dockerCfg = testenv.DockerConfig(t, h.reg)
	h.bk = testenv.StartBuildKit(t, h.reg)

	h.convox = filepath.Join(t.TempDir(), "convox")
	build := exec.Command("go", "build", "-o", h.convox, "./cmd/convox")
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/convox:\n%s", out)
	return h
}

// params sets rack parameters, as `convox rack params set` does.
func (h *harness) params(t *testing.T, kv ...string) {
	t.Helper()
	ps := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		ps[k] = v
	}
	require.NoError(t, h.rack.SystemUpdate(structs.SystemUpdateOptions{Parameters: ps}))
}

// dockerBuild is `docker build` of dir: BuildKit's Dockerfile frontend on a
// fresh daemon of the pinned BuildKit, the image written as `docker save` does.
func (h *harness) dockerBuild(dir, tmp string) (*imagecmp.Image, string, error) {
	dest := filepath.Join(tmp, "docker.tar")
	cmd := exec.Command(h.buildctl, "--addr", h.bk.Addr, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir,
		"--output", "type=docker,name=parity/ref:latest,dest="+dest)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+h.dockerCfg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, string(out), fmt.Errorf("docker build: %w", err)
	}
	defer os.Remove(dest)
	img, err := imagecmp.FromDockerSave(dest, "")
	return img, string(out), err
}

// kanikoBuild is plain kaniko, one run without a cache, as the fargate
// engine drives it otherwise (same image, mirror and flags), pushed to ref.
func (h *harness) kanikoBuild(dir, ref string) (*imagecmp.Image, string, error) {
	name := "convox-parity-" + filepath.Base(filepath.Dir(dir)) + "-" + fmt.Sprint(time.Now().UnixNano()%1e6)
	args := []string{"run", "--rm", "--name", name, "--network", "host",
		"-v", dir + ":/workspace", "-v", h.dockerCfg + ":/kaniko/.docker:ro",
		"-e", "DOCKER_CONFIG=/kaniko/.docker", "--entrypoint", "/kaniko/executor", h.kaniko,
		"--dockerfile", "/workspace/Dockerfile", "--context", "dir:///workspace", "--cleanup", "--ignore-path=/busybox",
		"--registry-mirror", h.reg.Host, "--insecure-registry", h.reg.Host, "--insecure", "--insecure-pull",
		"--skip-unused-stages=true", "--destination", ref}
	cmd := exec.Command(h.docker, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = exec.Command(h.docker, "rm", "-f", name).Run()
		return nil, string(out), fmt.Errorf("kaniko: %w", err)
	}
	img, err := imagecmp.FromRegistry(ref, h.reg.Auth())
	return img, string(out), err
}

// rackBuild is `convox build dir -a app` on the rack: the CLI packages the
// source as for a user. It returns the build (nil if none was created), its
// logs, and its web image when it completed.
func (h *harness) rackBuild(t *testing.T, app, dir string) (*structs.Build, string, *imagecmp.Image, error) {
	t.Helper()
	before, err := h.rack.Client.BuildList(app, structs.BuildListOptions{})
	require.NoError(t, err)
	cmd := exec.Command(h.convox, "build", dir, "-a", app)
	cmd.Env = append(os.Environ(), "RACK_URL="+h.rack.URL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cliErr := cmd.Run()
	after, err := h.rack.Client.BuildList(app, structs.BuildListOptions{})
	require.NoError(t, err)
	if len(after) == len(before) {
		return nil, out.String(), nil, fmt.Errorf("no build created: %v: %s", cliErr, out.String())
	}
	b, _ := h.rack.Wait(t, app, after[0].Id, 10*time.Minute)
	logs := h.rack.Logs(t, app, b.Id)
	if b.Status != structs.BuildStatusComplete {
		return b, logs, nil, fmt.Errorf("build %s %s: %s", b.Id, b.Status, b.Reason)
	}
	img, err := imagecmp.FromRegistry(h.rack.Registry()+"/"+app+":web."+b.Id, h.rack.RegistryAuth())
	return b, logs, img, err
}
