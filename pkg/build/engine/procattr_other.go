//go:build !linux

package engine

import (
	"os/exec"
	"syscall"
)

// procAttr puts a child in its own process group.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// start starts cmd.
func start(cmd *exec.Cmd) error { return cmd.Start() }
