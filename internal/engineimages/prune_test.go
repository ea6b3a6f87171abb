package engineimages_test

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/convox/rack/internal/engineimages"
	"github.com/convox/rack/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a real engine: a stale tag goes, the kept tag and a tag a container uses stay.
func TestPruneStale(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	repo := "convox-rack-prunetest-" + hex.EncodeToString(suffix)
	fill := func(tw *tar.Writer) error { return engineimages.AddData(tw, "hello.txt", []byte("hi\n"), 0o644) }
	tags := []string{repo + ":old", repo + ":used", repo + ":new"}
	for _, tag := range tags {
		require.NoError(t, engineimages.ImportTar(docker, tag, []string{`CMD ["/hello.txt"]`}, fill))
	}
	t.Cleanup(func() {
		for _, tag := range tags {
			exec.Command(docker, "image", "rm", "-f", tag).Run()
		}
	})
	container := repo + "-c"
	out, err := exec.Command(docker, "create", "--name", container, repo+":used").CombinedOutput()
	require.NoError(t, err, "docker create: %v: %s", err, out)
	t.Cleanup(func() { exec.Command(docker, "rm", "-f", container).Run() })

	removed, err := engineimages.PruneStale(docker, repo, repo+":new", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{repo + ":old"}, removed, "removed %v, want only %s:old", removed, repo)
	for tag, want := range map[string]bool{repo + ":old": false, repo + ":used": true, repo + ":new": true} {
		got := exec.Command(docker, "image", "inspect", tag).Run() == nil
		assert.Equal(t, want, got, "%s present = %v, want %v", tag, got, want)
	}

	// a fresh tag is younger than the age limit and stays
	removed, err = engineimages.PruneStale(docker, repo, repo+":new", engineimages.StaleAfter)
	if assert.NoError(t, err, "with the real age limit: removed %v, %v; want nothing", removed, err) {
		assert.Empty(t, removed, "with the real age limit: removed %v, %v; want nothing", removed, err)
	}
}
