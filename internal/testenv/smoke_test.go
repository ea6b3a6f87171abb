package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/smoke:1"
	cmd := exec.Command(buildctl, "--addr", bk.Addr, "build",
		"--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir,
		"--output", "type=image,name="+ref+",push=true",
		"--progress", "plain")
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+DockerConfig(t, reg))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("buildctl build: %v\n%s\n%s", err, out, bk.Logs())
	}
	if !strings.Contains(string(out), "RUN echo built-by-runc") {
		t.Errorf("build output does not show the RUN step:\n%s", out)
	}

	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	// Without credentials the registry refuses: auth is real.
	if _, err := remote.Head(tag); err == nil {
		t.Fatal("registry answered without credentials")
	}
	desc, err := remote.Get(tag, remote.WithAuth(reg.Auth()))
	if err != nil {
		t.Fatalf("reading manifest back: %v", err)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Errorf("image has %d layers, want the debian layer plus the RUN layer", len(layers))
	}
}
