package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// UpstreamCLIEnv names the unmodified upstream convox CLI binary for tests
// that check our rack against the client users already have.
const UpstreamCLIEnv = "CONVOX_UPSTREAM_CLI"

// UpstreamCLI returns the upstream convox CLI: $CONVOX_UPSTREAM_CLI, else
// ../shared/upstream-convox/convox beside the repository; it stops the test
// when neither is there (a failure under CI).
func UpstreamCLI(t testing.TB) string {
	t.Helper()
	path := os.Getenv(UpstreamCLIEnv)
	if path == "" {
		path = filepath.Join(RepoRoot(), "..", "shared", "upstream-convox", "convox")
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		Missing(t, "the upstream convox CLI (set %s)", UpstreamCLIEnv)
	}
	return path
}
