package builder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// runCommand runs name in its own session and process group, killed with ctx
// and with the rack. When name exits, for whatever reason, everything it
// started is killed too, even in process groups of its own (docker buildx,
// which would otherwise keep the BuildKit session and still push).
func runCommand(ctx context.Context, out io.Writer, env []string, name string, args ...string) error {
	if out == nil {
		out = io.Discard
	}
	// the output goes through a pipe of ours, so Wait returns when name
	// exits, not when the last of its children closes the pipe.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: output pipe: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	copied := make(chan struct{})
	go func() { io.Copy(out, r); close(copied) }()
	err = cmd.Wait()
	killSession(cmd.Process.Pid)
	drain(r, copied)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// drainWait bounds how long output is read after a command and its session
// were killed: a child that left the session may still hold the pipe.
const drainWait = 2 * time.Second

// drain waits for the copy of a command's output to end, then closes r.
func drain(r *os.File, copied <-chan struct{}) {
	select {
	case <-copied:
	case <-time.After(drainWait):
	}
	r.Close()
	<-copied
}

// killSession SIGKILLs the process group sid and every process of session
// sid, rescanning until none is left (or a few rounds, against a fork loop).
func killSession(sid int) {
	syscall.Kill(-sid, syscall.SIGKILL)
	for round := 0; round < 10; round++ {
		pids := sessionMembers(sid)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sessionMembers lists the live processes of session sid from /proc.
func sessionMembers(sid int) []int {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces and parens
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 4 || fields[0] == "Z" || fields[3] != strconv.Itoa(sid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}
