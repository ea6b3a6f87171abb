package local

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// TestCLIBuildLogsWhole: `convox build` of examples/multistage on a local
// rack prints the whole build log, cache summary and ids included, on each
// build method, cold and warm; `convox builds logs` ends the same way. The
// fargate app has a two-letter name, the shortest the API accepts.
func TestCLIBuildLogsWhole(t *testing.T) {
	for _, tc := range []struct{ method, app string }{{"ec2", "e2"}, {"fargate", "fa"}} {
		t.Run(tc.method, func(t *testing.T) {
			r := startLive(t, t.TempDir(), Options{})
			t.Setenv("RACK_URL", r.url)
			src := filepath.Join(testenv.RepoRoot(), "examples", "multistage")
			convox(t, "apps", "create", tc.app)
			convox(t, "rack", "params", "set", "BuildCache=Yes", "BuildEphemeral=Yes", "BuildMethod="+tc.method)
			for _, round := range []string{"cold", "warm"} {
				if round == "warm" { // other inputs, the same steps: fully cached, not reused whole
					src = testenv.Touched(t, src, round)
				}
				out := convox(t, "build", src, "-a", tc.app, "--build-args", "DEPS_WORK_MB=20")
				assert.NotContains(t, out, "short write", round)
				assert.NotContains(t, out, "interrupted", round)
				assert.Regexp(t, `(?m)^Service web: \d+ steps, \d+ cached, [0-9.]+s \(persistent cache[^)]*\)$`, out, round)
				m := regexp.MustCompile(`(?m)^Build: +(B[A-Z]+)\nRelease: +R[A-Z]+$`).FindStringSubmatch(out)
				require.NotNil(t, m, "%s build: no Build:/Release: lines\n%s", round, out)
				logs := convox(t, "builds", "logs", m[1], "-a", tc.app)
				assert.NotContains(t, logs, "short write")
				assert.Regexp(t, `Service web: \d+ steps, \d+ cached, [0-9.]+s \(persistent cache[^)]*\)\n`, logs)
				assert.NotContains(t, out, "WARNING", round)
				if round == "warm" {
					sm := regexp.MustCompile(`Service web: (\d+) steps, (\d+) cached`).FindStringSubmatch(out)
					if assert.NotNil(t, sm, out) {
						assert.Equal(t, sm[1], sm[2], "a warm build is fully cached:\n%s", out)
					}
				}
			}
		})
	}
}
