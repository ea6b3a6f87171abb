package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/tarball"
)

// TestBuildReadsNothingThroughALinkOut: the source keeps symlinks with any
// target (as docker's context does), but what the build itself reads (the
// manifest, each Dockerfile, the ignore files buildx and kaniko read) must
// stay in the source: one linked to the build host's files fails the build,
// and nothing of it is read. A link that stays inside works.
func TestBuildReadsNothingThroughALinkOut(t *testing.T) {
	src := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(body), 0o644))
	}
	link := func(target, name string) {
		require.NoError(t, os.Symlink(target, filepath.Join(src, name)))
	}
	write("real.yml", "services:\n  web:\n    build: .\n  out:\n    build:\n      path: .\n      manifest: Dockerfile.out\n  rel:\n    build:\n      path: sub\n      manifest: Dockerfile.up\n  ignore:\n    build:\n      path: ign\n  dfignore:\n    build:\n      path: sub\n      manifest: Dockerfile.real\n")
	write("Dockerfile", "FROM busybox\n")
	write("sub/Dockerfile.real", "FROM busybox\n")
	link("real.yml", "convox.yml")
	link("/proc/self/environ", "environ.yml")
	link("../../../../../../../proc/self/environ", "up.yml")
	link("/etc/passwd", "Dockerfile.out")
	link("../../../../../../../../etc/passwd", "sub/Dockerfile.up")
	write("ign/Dockerfile", "FROM busybox\n")
	link("/dev/zero", "ign/.dockerignore")
	link("/proc/self/environ", "sub/Dockerfile.real.dockerignore")

	services, data, err := loadServices(src, "convox.yml", 2)
	require.NoError(t, err, "a manifest linked inside the source")
	assert.Contains(t, string(data), "services:")
	for _, name := range []string{"environ.yml", "up.yml"} {
		_, data, err := loadServices(src, name, 2)
		assert.ErrorIs(t, err, tarball.ErrUnsafe, name)
		assert.Empty(t, data, name)
	}

	b := &builder{}
	require.Len(t, services, 5)
	for _, s := range services {
		_, err := b.groups(t.TempDir(), src, []service{s}, cachepolicy.Policy{}, cachepolicy.Policy{})
		if s.Name == "web" {
			assert.NoError(t, err, s.Name)
			continue
		}
		assert.ErrorIs(t, err, tarball.ErrUnsafe, s.Name)
		assert.ErrorContains(t, err, map[string]string{"out": "reading Dockerfile", "rel": "reading Dockerfile", "ignore": "reading .dockerignore", "dfignore": "reading Dockerfile.real.dockerignore"}[s.Name], s.Name)
	}
}
