package builder

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Task is one run of the build binary: exactly the environment an ECS build
// task gets (BUILD_*, RACK_URL) plus its arguments (-cache=false, -build-args).
type Task struct {
	// ID is the build id; container and builder names derive from it.
	ID string
	// Env holds KEY=value pairs.
	Env []string
	// Args are the build binary's arguments.
	Args []string
	// Out receives everything the build prints.
	Out io.Writer
}

// Runner runs build tasks one way (a method on a kind of host).
type Runner interface {
	// Name names the runner in the build log.
	Name() string
	// Run runs t to the end; an error means the build task itself failed.
	Run(ctx context.Context, t Task) error
}

// Host prepares the build host of one ec2 build and returns the extra
// environment that points the build at it, and a release for afterwards.
type Host interface {
	Name() string
	Acquire(ctx context.Context, t Task) (env []string, release func(), err error)
}

// Process is the ec2 method: the build binary as a child process on a host.
type Process struct {
	// Binary is the build binary.
	Binary string
	// Env is the base environment (PATH, HOME, TMPDIR).
	Env []string
	// Host is where the images are built.
	Host Host
}

// Name names the runner.
func (p *Process) Name() string { return "ec2 (" + p.Host.Name() + ")" }

// Run starts the build binary and waits for it.
func (p *Process) Run(ctx context.Context, t Task) error {
	hostEnv, release, err := p.Host.Acquire(ctx, t)
	if err != nil {
		return fmt.Errorf("preparing the build host: %w", err)
	}
	defer release()
	env := append(append(append([]string{}, p.Env...), hostEnv...), t.Env...)
	return runCommand(ctx, t.Out, env, p.Binary, t.Args...)
}

// runCommand runs name in its own process group, killed with ctx and with the rack.
func runCommand(ctx context.Context, out io.Writer, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
