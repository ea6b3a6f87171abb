package engine

import (
	"os/exec"
	"runtime"
	"syscall"
)

// procAttr puts a child in its own process group and kills it when the
// thread that started it (and so the build) dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// start starts cmd on a locked OS thread: Pdeathsig follows the thread that
// forked the child, so it must not be a thread the runtime may retire.
func start(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Start()
}
