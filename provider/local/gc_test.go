package local

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blobBytes is how much the registry's blob store holds on disk.
func blobBytes(t *testing.T, r *liveRack) int64 {
	t.Helper()
	var n int64
	root := filepath.Join(r.opts.Dir, "registry", "docker", "registry", "v2", "blobs")
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	require.NoError(t, err)
	return n
}

// readWhole pulls ref and reads every layer to the end, checking digests.
func readWhole(t *testing.T, r *liveRack, ref string) {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(tag, remote.WithAuth(r.repos.Auth))
	require.NoError(t, err, "image %s after the sweep", ref)
	require.NoError(t, testenv.ReadLayers(img), "image %s lost a layer in the sweep", ref)
}

// BuildCache=No deletes the cache images and frees their disk; the app's
// image, which shares layers with the cache, stays whole. The app's first
// stage writes 20 MB that only the cache keeps (mode=max exports every stage).
func TestBuildCacheNoFreesTheDisk(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	r.AppCreate("app1", structs.AppCreateOptions{})
	r.set(t, "BuildCache=Yes", "BuildEphemeral=Yes")
	dir := t.TempDir()
	files := map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n",
		"Dockerfile": "FROM busybox AS deps\nRUN head -c 20971520 /dev/urandom > /big.bin && sha256sum /big.bin > /big.sum\n" +
			"FROM busybox\nCOPY --from=deps /big.sum /big.sum\n",
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	var src bytes.Buffer
	require.NoError(t, tarball.Create(dir, &src, nil))
	o, err := r.ObjectStore("app1", "tmp/stages.tgz", &src, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	b, logs := r.build(t, "app1", o.Url, structs.BuildCreateOptions{})
	require.Equal(t, structs.BuildStatusComplete, b.Status, "build %s: %s\n%s", b.Status, b.Reason, logs)
	before := blobBytes(t, r)
	r.set(t, "BuildCache=No")
	after := blobBytes(t, r)
	t.Logf("registry blobs: %d bytes with the cache, %d after BuildCache=No", before, after)
	assert.False(t, before-after < 20<<20, "BuildCache=No freed %d bytes of %d, want the first stage's 20 MB at least", before-after, before)
	readWhole(t, r, r.Registry()+"/app1:web."+b.Id)
}

// A sweep requested while something pushes waits for the push to end: the
// deleted app's layers stay on disk until the lease is released.
func TestRegistrySweepWaitsForPushes(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	r.AppCreate("junk", structs.AppCreateOptions{})
	img, err := random.Image(8<<20, 1)
	require.NoError(t, err)
	tag, _ := name.NewTag(r.Registry()+"/junk:v1", name.Insecure)
	require.NoError(t, remote.Write(tag, img, remote.WithAuth(r.repos.Auth)))
	before := blobBytes(t, r)
	release := r.gc.lease() // as a build or an import holds it
	require.NoError(t, r.AppDelete("junk"))
	during := blobBytes(t, r)
	require.Equal(t, before, during, "the registry was swept during a push: %d bytes, was %d", during, before)
	release()
	after := blobBytes(t, r)
	assert.False(t, before-after < 8<<20, "after the push ended the sweep freed %d bytes, want the deleted app's 8 MB layer", before-after)
}
