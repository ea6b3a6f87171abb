package engine

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
)

// lastError is an io.Writer that passes output on and keeps the last line
// that looks like an error, so a failed tool's error can say why it failed.
type lastError struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	last string
}

func newLastError(out io.Writer) *lastError { return &lastError{out: out} }

func (l *lastError) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.check(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 {
		l.buf = l.buf[:0]
	}
	l.mu.Unlock()
	return l.out.Write(p)
}

// check keeps line when it looks like an error.
func (l *lastError) check(line string) {
	line = strings.TrimSpace(ansi.ReplaceAllString(line, ""))
	lower := strings.ToLower(line)
	for _, s := range errorWords {
		if strings.Contains(lower, s) {
			l.last = line
			return
		}
	}
}

// Line is the last error-looking line, credentials redacted, "" when none.
func (l *lastError) Line() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.check(string(l.buf))
		l.buf = nil
	}
	line := redact(l.last)
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// errorWords mark a line (lower-cased) as an error.
var errorWords = []string{"error", "failed to push", "unauthorized", "denied", "fatal"}

var (
	// https://user:pass@host
	urlCreds = regexp.MustCompile(`(://)[^/@\s]+@`)
	// Authorization: Basic xxx / Bearer xxx, password=xxx, token: xxx
	secretWords = regexp.MustCompile(`(?i)\b(basic|bearer|password|passwd|secret|token)([=: ]+)\S+`)
)

// redact removes what may be credentials from a log line.
func redact(line string) string {
	line = urlCreds.ReplaceAllString(line, "$1")
	return secretWords.ReplaceAllString(line, "$1$2[redacted]")
}
