package engine

import (
	"archive/tar"
	"bytes"
	"io"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// image stacks layers, each a map of path -> content ("/" suffix: a directory).
func image(t *testing.T, layers ...map[string]string) v1.Image {
	img := empty.Image
	for _, files := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, content := range files {
			h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(content))}
			if name[len(name)-1] == '/' {
				h = &tar.Header{Name: name, Mode: 0o755, Typeflag: tar.TypeDir}
				content = ""
			}
			require.NoError(t, tw.WriteHeader(h))
			_, err := tw.Write([]byte(content))
			require.NoError(t, err)
		}
		require.NoError(t, tw.Close())
		data := buf.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		require.NoError(t, err)
		img, err = mutate.AppendLayers(img, l)
		require.NoError(t, err)
	}
	return img
}

// files lists a tar's entries: name -> content.
func files(t *testing.T, data []byte) map[string]string {
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

// TestStageFiles: the copied files come from the top layer that wrote
// them, lower layers unread; anything but plain files goes the full way,
// which gives the same files.
func TestStageFiles(t *testing.T) {
	img := image(t,
		map[string]string{"bin/sh": "base", "build/artifact.txt": "old", "build/keep.txt": "kept"},
		map[string]string{"build/artifact.txt": "new", "build/deps.sum": "sum"},
	)
	data, err := topFiles(img, []string{"/build/artifact.txt", "/build/keep.txt"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"build/": "", "build/artifact.txt": "new", "build/keep.txt": "kept"}, files(t, data))

	full, err := keepPaths(mutate.Extract(img), []string{"/build/artifact.txt"})
	require.NoError(t, err)
	assert.Equal(t, "new", files(t, full)["build/artifact.txt"])

	_, err = topFiles(img, []string{"/build"})
	assert.ErrorIs(t, err, errNotFiles)
	dir, err := keepPaths(mutate.Extract(img), []string{"/build"})
	require.NoError(t, err)
	assert.Equal(t, []string{"build/artifact.txt", "build/deps.sum", "build/keep.txt"}, keys(files(t, dir)))

	removed := image(t, map[string]string{"build/artifact.txt": "old"}, map[string]string{"build/.wh.artifact.txt": ""})
	_, err = topFiles(removed, []string{"/build/artifact.txt"})
	assert.ErrorIs(t, err, errNotFiles)
	_, err = keepPaths(mutate.Extract(removed), []string{"/build/artifact.txt"})
	assert.ErrorContains(t, err, "/build/artifact.txt is not in the stage")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
