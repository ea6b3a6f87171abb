package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Inside a fargate container: the build binary and kaniko live under /kaniko
// (kaniko never snapshots it), the source is extracted into the /workspace
// mount (kaniko leaves mounts alone) and busybox sits in the ignored /busybox.
const (
	ContainerBuild     = "/kaniko/build"
	ContainerExecutor  = "/kaniko/executor"
	ContainerWorkspace = "/workspace"
)

// containerEnv is the environment of a fargate build container.
func containerEnv(t Task) []string {
	return append([]string{
		"PATH=/usr/local/bin:/kaniko:/busybox",
		"HOME=/root",
		"DOCKER_CONFIG=/kaniko/.docker",
		"TMPDIR=" + ContainerWorkspace,
		"BUILD_WORKDIR=" + ContainerWorkspace,
		"KANIKO_EXECUTOR=" + ContainerExecutor,
	}, t.Env...)
}

// DockerRun is the fargate method on the Docker engine: a fresh container of
// the runner image per build on the host network, removed afterwards.
type DockerRun struct {
	Docker string
	// Image holds /kaniko/executor and /kaniko/build.
	Image string
	// WorkRoot is the parent of the per-build /workspace directories.
	WorkRoot string
	// Prefix starts container names (the rack name), so a restart finds its own.
	Prefix string
	Env    []string
}

// Name names the runner.
func (r *DockerRun) Name() string { return "fargate (docker run)" }

// ContainerName is the container of build id.
func (r *DockerRun) ContainerName(id string) string {
	return r.Prefix + "-build-" + strings.ToLower(id)
}

// Run runs the build in its own container.
func (r *DockerRun) Run(ctx context.Context, t Task) error {
	work, err := workspace(r.WorkRoot, t.ID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	name := r.ContainerName(t.ID)
	args := []string{"run", "--rm", "--name", name, "--network", "host",
		"-v", work + ":" + ContainerWorkspace, "--entrypoint", ContainerBuild}
	for _, kv := range containerEnv(t) {
		args = append(args, "-e", kv)
	}
	args = append(append(args, r.Image), t.Args...)
	fmt.Fprintf(t.Out, "Running build %s in a fresh container %s\n", t.ID, name)
	err = runCommand(ctx, t.Out, r.Env, r.Docker, args...)
	if ctx.Err() != nil {
		r.Remove(context.Background(), t.ID)
	}
	return err
}

// Remove force-removes the container of build id, if any.
func (r *DockerRun) Remove(ctx context.Context, id string) {
	_ = runCommand(ctx, io.Discard, r.Env, r.Docker, "rm", "-f", r.ContainerName(id))
}

// Runc is the fargate method without an engine: a fresh runc container per
// build whose rootfs holds only kaniko, the build binary and busybox.
type Runc struct {
	Runc string
	// StateRoot is runc's --root: only this rack's containers live there.
	StateRoot string
	// BundleRoot is the parent of the per-build bundles.
	BundleRoot string
	// Executor, Build and Busybox are copied into each rootfs.
	Executor, Build, Busybox string
	Env                      []string
}

// Name names the runner.
func (r *Runc) Name() string { return "fargate (runc)" }

// Run builds a bundle, runs it to the end and deletes it.
func (r *Runc) Run(ctx context.Context, t Task) error {
	if err := os.MkdirAll(r.BundleRoot, 0o700); err != nil {
		return fmt.Errorf("bundle root: %w", err)
	}
	bundle, err := os.MkdirTemp(r.BundleRoot, t.ID+"-")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer os.RemoveAll(bundle)
	if err := r.rootfs(filepath.Join(bundle, "rootfs")); err != nil {
		return err
	}
	work := filepath.Join(bundle, "workspace")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	if err := runCommand(ctx, io.Discard, r.Env, r.Runc, "spec", "--bundle", bundle); err != nil {
		return err
	}
	if err := patchSpec(filepath.Join(bundle, "config.json"), append([]string{ContainerBuild}, t.Args...), containerEnv(t), work); err != nil {
		return err
	}
	name := "convox-build-" + strings.ToLower(t.ID)
	fmt.Fprintf(t.Out, "Running build %s in a fresh runc container %s\n", t.ID, name)
	defer r.Delete(name)
	return runCommand(ctx, t.Out, r.Env, r.Runc, "--root", r.StateRoot, "run", "--bundle", bundle, name)
}

// Delete force-deletes a container of this runner.
func (r *Runc) Delete(name string) {
	_ = runCommand(context.Background(), io.Discard, r.Env, r.Runc, "--root", r.StateRoot, "delete", "--force", name)
}

// DeleteAll removes every container left in StateRoot (after a rack crash).
func (r *Runc) DeleteAll() {
	entries, _ := os.ReadDir(r.StateRoot)
	for _, e := range entries {
		if e.IsDir() {
			r.Delete(e.Name())
		}
	}
}

// rootfs lays out a minimal kaniko filesystem.
func (r *Runc) rootfs(dir string) error {
	for _, d := range []string{"kaniko/.docker", "busybox", "workspace", "root", "etc", "tmp", "proc", "dev", "sys", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for src, dst := range map[string]string{r.Executor: "kaniko/executor", r.Build: "kaniko/build", r.Busybox: "busybox/busybox"} {
		if err := copyFile(src, filepath.Join(dir, dst), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for _, applet := range []string{"sh", "ls", "cat", "env", "mkdir", "rm"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "busybox", applet)); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	// /run/.containerenv is the file by which kaniko (like systemd) knows it runs in a container.
	if err := os.WriteFile(filepath.Join(dir, "run", ".containerenv"), nil, 0o644); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "etc", "nsswitch.conf"), []byte("hosts: files dns\n"), 0o644)
}

// defaultCaps are a container engine's default capabilities: what kaniko needs
// to unpack images and run RUN steps.
var defaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// patchSpec turns `runc spec`'s default into a build container: our process,
// a writable root, the host network (the registry and rack API are on
// loopback) and the workspace mount.
func patchSpec(path string, args, env []string, work string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("runc spec: %w", err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("runc spec: %w", err)
	}
	proc, _ := spec["process"].(map[string]any)
	root, _ := spec["root"].(map[string]any)
	linux, _ := spec["linux"].(map[string]any)
	if proc == nil || root == nil || linux == nil {
		return fmt.Errorf("runc spec: unexpected layout")
	}
	proc["terminal"] = false
	proc["args"] = args
	proc["env"] = env
	proc["cwd"] = ContainerWorkspace
	proc["capabilities"] = map[string]any{"bounding": defaultCaps, "effective": defaultCaps, "permitted": defaultCaps}
	root["readonly"] = false
	var namespaces []any
	ns, _ := linux["namespaces"].([]any)
	for _, n := range ns {
		if m, ok := n.(map[string]any); ok && m["type"] == "network" {
			continue
		}
		namespaces = append(namespaces, n)
	}
	linux["namespaces"] = namespaces
	mounts, _ := spec["mounts"].([]any)
	spec["mounts"] = append(mounts, map[string]any{
		"destination": ContainerWorkspace, "type": "bind", "source": work, "options": []string{"rbind", "rw"},
	})
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return fmt.Errorf("runc spec: %w", err)
	}
	return os.WriteFile(path, out, 0o600)
}

// workspace makes the per-build directory mounted at /workspace.
func workspace(root, id string) (string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	dir, err := os.MkdirTemp(root, id+"-")
	if err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	return dir, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
