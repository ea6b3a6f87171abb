package cli_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/structs"
)

// TestColouredBuildLogsArriveWhole: kaniko colours its log level; stdcli
// strips the colour codes, and the whole log still reaches the user, with the
// cache summary after the coloured lines, from `convox build` and `builds logs`.
func TestColouredBuildLogsArriveWhole(t *testing.T) {
	r := newRack(t, "app1")
	r.p.Build = func(string, structs.BuildCreateOptions) apitest.BuildResult {
		return apitest.BuildResult{Status: structs.BuildStatusComplete, Logs: []string{
			"Building web (kaniko)\n",
			"\x1b[36mINFO\x1b[0m[0001] RUN make                                     \n",
			"\x1b[36mINFO\x1b[0m[0002] Found cached layer, extracting to filesystem \n",
			"Service web: 2 steps, 1 cached, 2.0s (persistent cache)\n",
		}}
	}
	want := "Building web (kaniko)\n" +
		"INFO[0001] RUN make                                     \n" +
		"INFO[0002] Found cached layer, extracting to filesystem \n" +
		"Service web: 2 steps, 1 cached, 2.0s (persistent cache)\n"

	res := convox(t, nil, "build", sourceDir(t, app1Source), "-a", "app1", "-r", r.url)
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stderr, "short write")
	assert.Contains(t, res.stdout, want)
	assert.Regexp(t, `(?m)^Build: +B[A-Z]+\nRelease: +R[A-Z]+\n$`, res.stdout)

	builds, err := r.p.BuildList("app1", structs.BuildListOptions{})
	require.NoError(t, err)
	require.Len(t, builds, 1)
	logs := convox(t, nil, "builds", "logs", builds[0].Id, "-a", "app1", "-r", r.url)
	require.Equal(t, 0, logs.code, logs.stderr)
	assert.Equal(t, want, logs.stdout)
	assert.Empty(t, logs.stderr)
}
