package cli

import (
	"io"

	"github.com/convox/stdcli"
)

// logWriter passes a log stream to the CLI's output. stdcli's Writer returns
// the length of the text it wrote after removing colour codes and rendering
// tags, not of the text it was given, and io.Copy takes that for a short
// write: kaniko's coloured log lines cut every fargate build log short.
type logWriter struct{ w *stdcli.Writer }

// logOutput is where a command copies a build log to.
func logOutput(c *stdcli.Context) io.Writer { return logWriter{c.Writer()} }

func (l logWriter) Write(p []byte) (int, error) {
	if _, err := l.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
