package version_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/version"
)

// upstreamCutoffs are the versions the upstream convox CLI compares a rack's
// version with (as strings); at or below them it takes its oldest code paths.
var upstreamCutoffs = []string{"20180416200237", "20180708231844", "20190111211123"}

// aboveCutoffs fails unless v sorts above every upstream cutoff, as the CLI compares.
func aboveCutoffs(t *testing.T, v string) {
	t.Helper()
	for _, c := range upstreamCutoffs {
		assert.Greater(t, v, c, "version %q takes the upstream CLI's old path at %s", v, c)
	}
}

func TestUnstamped(t *testing.T) {
	assert.Equal(t, "dev", version.Current())
	aboveCutoffs(t, version.Current())
	assert.LessOrEqual(t, "", upstreamCutoffs[0], "an empty version is what the CLI treats as the oldest rack")
}

// hack/version.sh prints a commit timestamp (or dev) the CLI reads as a current rack.
func TestStampValue(t *testing.T) {
	out, err := exec.Command("bash", "../../hack/version.sh").Output()
	require.NoError(t, err)
	v := strings.TrimSpace(string(out))
	if v != version.Dev {
		assert.Regexp(t, regexp.MustCompile(`^20\d{12}$`), v)
	}
	aboveCutoffs(t, v)

	cmd := exec.Command("bash", "../../hack/version.sh")
	cmd.Env = append(os.Environ(), "VERSION=20300101000000")
	out, err = cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, "20300101000000\n", string(out), "VERSION overrides the commit time")
}

// A binary built with the stamp reports it; one built without says dev.
func TestStampedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rack twice")
	}
	dir := t.TempDir()
	for _, c := range []struct{ ldflags, want string }{
		{"-X github.com/convox/rack/pkg/version.Version=20261130051500", "20261130051500"},
		{"", "dev"},
	} {
		bin := filepath.Join(dir, "rack")
		build := exec.Command("go", "build", "-ldflags", c.ldflags, "-o", bin, "github.com/convox/rack/cmd/rack")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "%s", out)
		out, err = exec.Command(bin, "version").Output()
		require.NoError(t, err)
		assert.Equal(t, c.want+"\n", string(out))
	}
}
