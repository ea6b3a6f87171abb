package local

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
)

// uploadFiles writes a source tree and stores it as a build source of app.
func (r *liveRack) uploadFiles(t *testing.T, app string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for path, body := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644))
	}
	var buf bytes.Buffer
	require.NoError(t, tarball.Create(dir, &buf, nil))
	o, err := r.ObjectStore(app, "tmp/src.tgz", &buf, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	return o.Url
}

// serviceFile reads one file of a build's pushed image of service.
func (r *liveRack) serviceFile(t *testing.T, app, service, build, path string) (string, error) {
	t.Helper()
	return testenv.ImageFile(r.Registry()+"/"+app+":"+service+"."+build, path, r.RegistryAuth())
}

// layerPaths lists every path any layer of a service's image holds.
func (r *liveRack) layerPaths(t *testing.T, app, service, build string) []string {
	t.Helper()
	ref, err := name.ParseReference(r.Registry()+"/"+app+":"+service+"."+build, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithAuth(r.RegistryAuth()))
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	var paths []string
	for _, l := range layers {
		rc, err := l.Uncompressed()
		require.NoError(t, err)
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			paths = append(paths, h.Name)
		}
		rc.Close()
	}
	return paths
}

// deletingDockerfile deletes a file in a RUN: kaniko writes a whiteout for
// it, which a warm build applies from the cached layer.
const deletingDockerfile = `FROM busybox:latest
RUN mkdir -p /out && echo old > /out/old && echo keep > /out/keep
RUN rm /out/old
COPY token.txt /token.txt
RUN ls /out > /listing
`

// TestFargateWarmRebuildKeepsADeletion: a Dockerfile that deletes a file in
// a RUN, built cold, then warm with no change, then warm after a change
// that makes kaniko apply the cached layers (the whiteout among them) to its
// filesystem and run the steps after them. Every image has the file
// deleted. The rack uses the Docker engine, as a local rack does where one
// runs: a kaniko container on an engine with fuse-overlayfs could not write
// the whiteout (`open /.wh.out: invalid argument`); the runc runner's rootfs
// is a plain host directory.
func TestFargateWarmRebuildKeepsADeletion(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{Docker: testenv.RequireDockerEngine(t), BuildKitImage: testenv.BuildKitImage(t)})
	testenv.Tool(t, "executor")
	_, err := r.AppCreate("del", structs.AppCreateOptions{})
	require.NoError(t, err)
	r.set(t, "BuildCache=Yes", "BuildMethod=fargate")
	files := map[string]string{"convox.yml": "services:\n  web:\n    build: .\n", "Dockerfile": deletingDockerfile, "token.txt": "one\n"}

	var last *structs.Build
	for i, token := range []string{"one", "one", "two"} {
		files["token.txt"] = token + "\n"
		// a file no step reads changes the inputs: every build runs kaniko, none is a reuse
		files["notes.txt"] = fmt.Sprint(i)
		b, logs := r.build(t, "del", r.uploadFiles(t, "del", files), structs.BuildCreateOptions{})
		require.Equal(t, structs.BuildStatusComplete, b.Status, "build %d: %s\n%s", i+1, b.Reason, logs)
		require.Contains(t, logs, "fresh runc container")
		if i > 0 {
			assert.Contains(t, logs, "Found cached layer", "build %d took nothing from the cache:\n%s", i+1, logs)
		}
		listing, err := r.serviceFile(t, "del", "web", b.Id, "listing")
		require.NoError(t, err)
		assert.Equal(t, "keep\n", listing, "build %d: RUN saw the deleted file", i+1)
		_, err = r.serviceFile(t, "del", "web", b.Id, "out/old")
		assert.Error(t, err, "build %d: the deleted file is in the image", i+1)
		got, err := r.serviceFile(t, "del", "web", b.Id, "token.txt")
		require.NoError(t, err)
		assert.Equal(t, token+"\n", got)
		last = b
	}
	steps, hits := cached(t, last)
	assert.Equal(t, 2, hits, "the last build: the two RUNs before the change cached (%d of %d)", hits, steps)
}

// TestFargateTwoServicesDiffer: two services with different Dockerfiles in
// one fargate build task: kaniko runs twice in one container, the first run
// wipes its filesystem for the second (--cleanup), the last does not. The
// second service's RUN never sees the first's files, and each image holds
// only its own.
func TestFargateTwoServicesDiffer(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	testenv.Tool(t, "executor")
	_, err := r.AppCreate("two", structs.AppCreateOptions{})
	require.NoError(t, err)
	r.set(t, "BuildCache=Yes", "BuildMethod=fargate")
	files := map[string]string{
		"convox.yml":     "services:\n  one:\n    build: one\n  two:\n    build: two\n",
		"one/Dockerfile": "FROM busybox:latest\nRUN mkdir -p /data && echo one > /data/one\nCOPY f.txt /data/f.txt\n",
		"one/f.txt":      "from one\n",
		"two/Dockerfile": "FROM busybox:latest\nRUN mkdir -p /data && echo two > /data/two\nCOPY f.txt /data/f.txt\n" +
			"RUN ls /data > /listing\n",
		"two/f.txt": "from two\n",
	}
	for i := 0; i < 2; i++ { // cold, then warm (cached layers applied)
		files["two/f.txt"] = strings.Repeat("from two\n", i+1)
		b, logs := r.build(t, "two", r.uploadFiles(t, "two", files), structs.BuildCreateOptions{})
		require.Equal(t, structs.BuildStatusComplete, b.Status, "build %d: %s\n%s", i+1, b.Reason, logs)
		assert.Equal(t, 1, strings.Count(logs, "Deleting filesystem"), "build %d: kaniko wiped its filesystem %d times; want once, after the first service:\n%s",
			i+1, strings.Count(logs, "Deleting filesystem"), logs)

		listing, err := r.serviceFile(t, "two", "two", b.Id, "listing")
		require.NoError(t, err)
		assert.Equal(t, "f.txt\ntwo\n", listing, "build %d: service two's RUN saw another image's files", i+1)
		_, err = r.serviceFile(t, "two", "two", b.Id, "data/one")
		assert.Error(t, err, "build %d: service one's file is in service two's image", i+1)
		f, err := r.serviceFile(t, "two", "two", b.Id, "data/f.txt")
		require.NoError(t, err)
		assert.Equal(t, files["two/f.txt"], f)
		f, err = r.serviceFile(t, "two", "one", b.Id, "data/f.txt")
		require.NoError(t, err)
		assert.Equal(t, "from one\n", f)
		_, err = r.serviceFile(t, "two", "one", b.Id, "data/two")
		assert.Error(t, err, "build %d: service two's file is in service one's image", i+1)
		for _, service := range []string{"one", "two"} {
			for _, p := range r.layerPaths(t, "two", service, b.Id) {
				assert.False(t, strings.HasPrefix(strings.TrimPrefix(p, "/"), "workspace/") || strings.HasPrefix(strings.TrimPrefix(p, "/"), "kaniko/"),
					"build %d: service %s's image holds %s: the build's own files were snapshotted", i+1, service, p)
			}
		}
	}
}
