package local

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/convox/rack/internal/baseimages"
	"github.com/convox/rack/internal/engineimages"
	"github.com/convox/rack/internal/tools"
)

// FromEnv builds a rack from the environment cmd/rack runs in:
//
//	RACK_NAME             rack name (default convox)
//	RACK_DATA             data directory (default $XDG_DATA_HOME/convox-rack/{name})
//	RACK_PASSWORD         API password, required
//	RACK_URL              API URL builds call back to (default http://convox:PASSWORD@127.0.0.1:$PORT)
//	RACK_BUILD_BINARY     static cmd/build binary (default: "build" beside this executable)
//	RACK_REGISTRY_ADDR    registry listen address (default: last run's, else a free loopback port)
//	RACK_BUILDKIT_IMAGE   engine image of the docker-container builder (default: made from the tools)
//	RACK_JANITOR_INTERVAL cache cleanup interval (default 1h)
//	RACK_SEED_BASE_IMAGES 0: do not push busybox and debian base images at start
//	CONVOX_TOOLS          pinned tool cache (default ~/.cache/convox-rack-tools)
//	CONVOX_IGNORE_DOCKER  1: never use a Docker engine, even when one runs
func FromEnv() (*Provider, error) {
	opts := Options{
		Name:          os.Getenv("RACK_NAME"),
		Dir:           os.Getenv("RACK_DATA"),
		Password:      os.Getenv("RACK_PASSWORD"),
		URL:           os.Getenv("RACK_URL"),
		BuildBinary:   os.Getenv("RACK_BUILD_BINARY"),
		RegistryAddr:  os.Getenv("RACK_REGISTRY_ADDR"),
		BuildKitImage: os.Getenv("RACK_BUILDKIT_IMAGE"),
		Tools:         tools.BinDir(),
	}
	if opts.Name == "" {
		opts.Name = "convox"
	}
	if opts.Password == "" {
		return nil, errors.New("RACK_PASSWORD is required")
	}
	if opts.Dir == "" {
		base := os.Getenv("XDG_DATA_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("RACK_DATA is unset and there is no home directory: %w", err)
			}
			base = filepath.Join(home, ".local", "share")
		}
		opts.Dir = filepath.Join(base, "convox-rack", opts.Name)
	}
	if opts.URL == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "5443"
		}
		opts.URL = (&url.URL{Scheme: "http", User: url.UserPassword("convox", opts.Password), Host: "127.0.0.1:" + port}).String()
	}
	if opts.BuildBinary == "" {
		if exe, err := os.Executable(); err == nil {
			if path := filepath.Join(filepath.Dir(exe), "build"); isFile(path) {
				opts.BuildBinary = path
			}
		}
	}
	if v := os.Getenv("RACK_JANITOR_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("RACK_JANITOR_INTERVAL: %w", err)
		}
		opts.JanitorInterval = d
	}
	if os.Getenv("RACK_SEED_BASE_IMAGES") != "0" {
		opts.BaseImages = &baseimages.Sources{
			Busybox:      filepath.Join(tools.BinDir(), "busybox"),
			DebianRootfs: tools.DebianRootfs(),
		}
	}
	if os.Getenv("CONVOX_IGNORE_DOCKER") != "1" {
		opts.Docker = DockerEngine()
	}
	if err := engineImages(&opts); err != nil {
		return nil, err
	}
	return New(opts)
}

// engineImages makes the BuildKit image on the Docker engine unless it was
// given, so a machine with an engine builds ec2 builds through it as an EC2
// build host does (fargate builds run in runc, as strict as Fargate).
func engineImages(opts *Options) error {
	if opts.Docker == "" || opts.BuildBinary == "" || opts.BuildKitImage != "" {
		// without a build binary there is nothing to build with; runners say so per build
		return nil
	}
	src := engineimages.Sources{
		Docker:       opts.Docker,
		DebianRootfs: tools.DebianRootfs(),
		Buildkitd:    tools.Look("buildkitd"),
		Buildctl:     tools.Look("buildctl"),
		Runc:         tools.Look("runc"),
	}
	var err error
	if opts.BuildKitImage, err = engineimages.BuildKit(src); err != nil {
		return fmt.Errorf("making the BuildKit image on the Docker engine (run `make tools`, or set CONVOX_IGNORE_DOCKER=1): %w", err)
	}
	return nil
}

// DockerEngine is the docker CLI when a Docker engine answers through it, else "".
func DockerEngine() string {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return ""
	}
	if exec.Command(docker, "info", "--format", "{{.ServerVersion}}").Run() != nil {
		return ""
	}
	return docker
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
