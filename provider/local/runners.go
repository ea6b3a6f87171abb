package local

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/provider/local/builder"
)

// runner picks how a build runs from BuildMethod and BuildEphemeral: fargate
// builds in a fresh runc container as strict as a Fargate task; ec2 builds on
// the Docker engine when the rack uses one and has its images, else on a
// BuildKit daemon it supervises.
func (s *buildSet) runner(ps map[string]string) (builder.Runner, error) {
	o := s.p.opts
	engine := o.Docker != ""
	ephemeral := ps["BuildEphemeral"] == "Yes"
	if o.BuildBinary == "" {
		return nil, fmt.Errorf("%w: no build binary configured", errNoBuilder)
	}
	if buildtask.Method(ps["BuildMethod"]) == buildtask.Fargate {
		// runc whatever engine runs: the rootfs is a plain host directory
		r, err := s.runc()
		if err != nil {
			return nil, err
		}
		if r.Task, err = s.fargateTask(ps); err != nil {
			return nil, err
		}
		return r, nil
	}
	dockerConfig := s.dir("docker")
	if err := builder.PluginDir(dockerConfig, s.tool("docker-buildx")); err != nil {
		return nil, err
	}
	env := append(s.baseEnv(), "DOCKER_CONFIG="+dockerConfig)
	if engine && o.BuildKitImage != "" {
		host := s.engineHost(false)
		if ephemeral {
			s.mu.Lock()
			if s.fresh == nil { // one for the rack: it removes leftovers once, then each build's own builder
				s.fresh = s.engineHost(true)
			}
			host = s.fresh
			s.mu.Unlock()
		}
		return &builder.Process{Binary: o.BuildBinary, Env: env, Host: host}, nil
	}
	bin, conf := s.tool("buildkitd"), builder.Config(s.p.registry.Host())
	if ephemeral {
		host := &builder.EphemeralDaemon{Binary: bin, Config: conf, Env: s.baseEnv(), Roots: s.dir("buildkit-fresh")}
		return &builder.Process{Binary: o.BuildBinary, Env: env, Host: host}, nil
	}
	s.mu.Lock()
	if s.shared == nil {
		daemon := &builder.BuildKitd{Binary: bin, Root: s.dir("buildkit"), Config: conf, Env: s.baseEnv()}
		s.shared = &builder.SharedDaemon{Daemon: daemon, Runc: s.tool("runc")}
	}
	shared := s.shared
	s.mu.Unlock()
	return &builder.Process{Binary: o.BuildBinary, Env: env, Host: shared}, nil
}

// engineHost is the host's Docker engine as the ec2 build host.
func (s *buildSet) engineHost(ephemeral bool) *builder.Engine {
	o := s.p.opts
	return &builder.Engine{Docker: o.Docker, DockerConfig: s.dir("docker"), BuildKitImage: o.BuildKitImage, Ephemeral: ephemeral, Env: s.baseEnv()}
}

func (s *buildSet) runc() (*builder.Runc, error) {
	r := &builder.Runc{
		Runc: s.tool("runc"), StateRoot: s.dir("runc"), BundleRoot: s.dir("bundles"),
		Executor: s.tool("executor"), Build: s.p.opts.BuildBinary, Busybox: s.tool("busybox"), CACerts: caCerts(), Env: s.baseEnv(),
		Teardowns: &s.teardowns,
	}
	for _, f := range []string{r.Runc, r.Executor, r.Busybox} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%w: the fargate method needs %s (run `make tools`)", errNoBuilder, filepath.Base(f))
		}
	}
	return r, nil
}

// cleanupHosts removes what BuildKit daemons killed with a previous run of
// the rack left behind: orphaned step containers, mounts, fresh roots.
func (s *buildSet) cleanupHosts() {
	runc := s.tool("runc")
	builder.CleanRoot(runc, filepath.Join(s.p.opts.Dir, "buildkit"))
	fresh := filepath.Join(s.p.opts.Dir, "buildkit-fresh")
	builder.CleanRoot(runc, fresh)
	os.RemoveAll(fresh)
}

// cleanup removes what a build of a previous run may have left behind.
func (s *buildSet) cleanup(id string) {
	if r, err := s.runc(); err == nil {
		r.DeleteAll()
	}
}

// tool is the path of a pinned tool: in the tools directory, else on PATH.
func (s *buildSet) tool(name string) string {
	if dir := s.p.opts.Tools; dir != "" {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return name
}

// dir is a directory under the rack's data directory, created.
func (s *buildSet) dir(name string) string {
	path := filepath.Join(s.p.opts.Dir, name)
	os.MkdirAll(path, 0o700)
	return path
}

// baseEnv is the environment every build process starts from.
func (s *buildSet) baseEnv() []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if s.p.opts.Tools != "" {
		path = s.p.opts.Tools + ":" + path
	}
	home, _ := os.UserHomeDir()
	return []string{"PATH=" + path, "HOME=" + home, "TMPDIR=" + s.dir("tmp")}
}
