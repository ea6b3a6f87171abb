package testenv

import (
	"os/exec"
	"syscall"
	"time"
)

// stopProcess ends a server this package started in its own process group:
// SIGTERM, then after grace SIGKILL to the whole group; exited closes when
// the process has been waited for.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}
