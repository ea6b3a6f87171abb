package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// What the fargate build image (images/fargate) holds: kaniko laid out as
// kaniko expects (everything it must keep under /kaniko, which it never
// snapshots), the build binary beside it, busybox in /busybox, and its
// config. The image's test checks the built image against these.
const (
	ContainerBuild    = "/kaniko/build"
	ContainerExecutor = "/kaniko/executor"
	// FargateWorkingDir is the image's WORKDIR and BUILD_WORKDIR: cmd/build
	// extracts the source under it, in the container's own filesystem.
	FargateWorkingDir = "/workspace"
)

// FargateImageEnv is the fargate image's ENV.
var FargateImageEnv = []string{
	"PATH=/usr/local/bin:/kaniko:/busybox",
	"DOCKER_CONFIG=/kaniko/.docker/",
	"SSL_CERT_DIR=/kaniko/ssl/certs",
	"HOME=/root",
	"USER=root",
	"KANIKO_EXECUTOR=" + ContainerExecutor,
	"BUILD_WORKDIR=" + FargateWorkingDir,
}

// FargateTask is the container of the fargate build task definition, as the
// template gives it (provider/aws/formation).
type FargateTask struct {
	// Env is the container definition's Environment.
	Env map[string]string
	// Deployed are variables whose value only a deployment knows: the
	// RunTask overrides must give them.
	Deployed []string
	// CapAdd are capabilities added to the default set: Fargate allows
	// only SYS_PTRACE.
	CapAdd []string
}

// ContainerSpec is how a build task's container starts.
type ContainerSpec struct {
	Args []string
	Env  []string
	Cwd  string
	// Caps are the container's capabilities (bounding, effective, permitted).
	Caps []string
}

// defaultCaps are a container engine's default capabilities, which a Fargate
// task gets too.
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID",
	"CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}

// Spec is the container Fargate would start for t: the image's entrypoint
// with the overridden command, the image's ENV, then the task definition's
// Environment, then the RunTask overrides (a later value of a name wins),
// and the default capabilities plus those the task definition adds.
func (f FargateTask) Spec(t Task) (ContainerSpec, error) {
	env := map[string]string{}
	var order []string
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range FargateImageEnv {
		set(kv)
	}
	names := make([]string, 0, len(f.Env))
	for k := range f.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		set(k + "=" + f.Env[k])
	}
	overridden := map[string]bool{}
	for _, kv := range t.Env {
		set(kv)
		k, _, _ := strings.Cut(kv, "=")
		overridden[k] = true
	}
	for _, k := range f.Deployed {
		if !overridden[k] {
			return ContainerSpec{}, fmt.Errorf("the fargate build task definition leaves %s to the deployment, and the build task does not give it", k)
		}
	}
	caps := append([]string{}, defaultCaps...)
	for _, c := range f.CapAdd {
		if c != "SYS_PTRACE" {
			return ContainerSpec{}, fmt.Errorf("the fargate build task definition adds capability %s: Fargate allows only SYS_PTRACE", c)
		}
		caps = append(caps, "CAP_SYS_PTRACE")
	}
	spec := ContainerSpec{Args: append([]string{ContainerBuild}, t.Args...), Cwd: FargateWorkingDir, Caps: caps}
	for _, k := range order {
		spec.Env = append(spec.Env, k+"="+env[k])
	}
	return spec, nil
}

// Runc is the fargate method on the local rack, as strict as Fargate: a
// fresh runc container per build, started as the template's fargate build
// task would be (Task), on a rootfs holding what the fargate image holds,
// on a plain host directory (so kaniko can write whiteout files whatever
// the Docker engine's storage driver). No bind mount, not privileged, no
// capability beyond Fargate's; cmd/build fetches the source itself. The one
// difference is the network: the host's, where the registry and the rack
// API listen on loopback.
type Runc struct {
	Runc string
	// StateRoot is runc's --root: only this rack's containers live there.
	StateRoot string
	// BundleRoot is the parent of the per-build bundles.
	BundleRoot string
	// Executor, Build and Busybox are the files of the image; CACerts, if
	// set, its certificate bundle.
	Executor, Build, Busybox, CACerts string
	// Task is the fargate build task definition's container.
	Task FargateTask
	Env  []string
	// Teardowns, when set, counts containers deleted in the background: a
	// build's task ends when its process exits, as a Fargate task's does, not
	// once its rootfs (the unpacked base image and all) is removed from disk.
	Teardowns *sync.WaitGroup
}

// Name names the runner.
func (r *Runc) Name() string { return "fargate (runc)" }

// Run builds a bundle, runs it to the end and deletes it.
func (r *Runc) Run(ctx context.Context, t Task) error {
	spec, err := r.Task.Spec(t)
	if err != nil {
		return err
	}
	name := "convox-build-" + strings.ToLower(t.ID)
	fmt.Fprintf(t.Out, "Running build %s in a fresh runc container %s\n", t.ID, name)
	return r.run(ctx, name, spec, nil, t.Out)
}

// Exec runs args in a fresh container as Run would start a build task, with
// the host files or directories of copies (host path: path in the rootfs)
// copied into its rootfs first, since it has no mounts. The bench runs bare
// kaniko this way, in the same container as the product's builds.
func (r *Runc) Exec(ctx context.Context, id string, args []string, copies map[string]string, out io.Writer) error {
	t := Task{ID: id}
	for _, k := range r.Task.Deployed {
		t.Env = append(t.Env, k+"=") // not a build task: no contract to give them
	}
	spec, err := r.Task.Spec(t)
	if err != nil {
		return err
	}
	spec.Args = args
	return r.run(ctx, "convox-exec-"+strings.ToLower(id), spec, copies, out)
}

func (r *Runc) run(ctx context.Context, name string, spec ContainerSpec, copies map[string]string, out io.Writer) error {
	if err := os.MkdirAll(r.BundleRoot, 0o700); err != nil {
		return fmt.Errorf("bundle root: %w", err)
	}
	bundle, err := os.MkdirTemp(r.BundleRoot, name+"-")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	teardown := func() {
		r.Delete(name)
		os.RemoveAll(bundle)
	}
	defer func() {
		if r.Teardowns == nil {
			teardown()
			return
		}
		r.Teardowns.Add(1)
		go func() {
			defer r.Teardowns.Done()
			teardown()
		}()
	}()
	rootfs := filepath.Join(bundle, "rootfs")
	if err := r.rootfs(rootfs); err != nil {
		return err
	}
	for src, dst := range copies {
		target := filepath.Join(rootfs, filepath.Clean("/"+dst))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
		if err := runCommand(ctx, io.Discard, r.Env, "cp", "-a", "-T", src, target); err != nil {
			return fmt.Errorf("rootfs: copying %s: %w", src, err)
		}
	}
	if err := runCommand(ctx, io.Discard, r.Env, r.Runc, "spec", "--bundle", bundle); err != nil {
		return err
	}
	if err := PatchSpec(filepath.Join(bundle, "config.json"), spec); err != nil {
		return err
	}
	return runCommand(ctx, out, r.Env, r.Runc, "--root", r.StateRoot, "run", "--bundle", bundle, name)
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

// rootfs lays out what the fargate image holds, and the marker a container
// runtime adds (as Docker adds /.dockerenv) by which kaniko knows it runs in
// a container.
func (r *Runc) rootfs(dir string) error {
	for _, d := range []string{"kaniko/ssl/certs", "busybox", "etc", strings.TrimPrefix(FargateWorkingDir, "/"), "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	files := map[string]string{r.Executor: "kaniko/executor", r.Build: "kaniko/build", r.Busybox: "busybox/busybox"}
	if r.CACerts != "" {
		files[r.CACerts] = "kaniko/ssl/certs/ca-certificates.crt"
	}
	for src, dst := range files {
		if err := copyFile(src, filepath.Join(dir, dst), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "run", ".containerenv"), nil, 0o644); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "etc", "nsswitch.conf"), []byte("hosts: files dns\n"), 0o644)
}

// PatchSpec turns `runc spec`'s default into the build container: its
// process, a writable root, the host network (the registry and rack API are
// on loopback). It adds no mount: the runtime's own (/proc, /dev, /sys) stay.
func PatchSpec(path string, c ContainerSpec) error {
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
	proc["args"] = c.Args
	proc["env"] = c.Env
	proc["cwd"] = c.Cwd
	proc["noNewPrivileges"] = false // as on Fargate: setuid programs in RUN steps work
	proc["capabilities"] = map[string]any{"bounding": c.Caps, "effective": c.Caps, "permitted": c.Caps}
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
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return fmt.Errorf("runc spec: %w", err)
	}
	return os.WriteFile(path, out, 0o600)
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
