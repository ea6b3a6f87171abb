package fuzz

import (
	"fmt"
	"runtime"
	"time"
)

// execLimit is how long one fuzz input may take; a slower one is a hang.
const execLimit = 10 * time.Second

// watchdog panics with every goroutine's stack when an input runs past
// limit, so a hang becomes a crasher the fuzzer saves and reports; call the
// returned func when the input is done.
func watchdog(limit time.Duration) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(limit):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			panic(fmt.Sprintf("input still running after %s:\n%s", limit, buf[:n]))
		}
	}()
	return func() { close(done) }
}
