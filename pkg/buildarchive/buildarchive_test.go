package buildarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/structs"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	return img
}

func digest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

// members reads a gzip tar into entry name → content, in order.
func members(t *testing.T, data []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var names []string
	content := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		names = append(names, hdr.Name)
		content[hdr.Name] = b
	}
	return names, content
}

func TestWriteMakesTheUpstreamLayout(t *testing.T) {
	web, worker := randomImage(t), randomImage(t)
	b := structs.Build{Id: "BABCDEFGHIJ", App: "app1", Description: "v1", Manifest: "services:\n  web: {}\n",
		Status: structs.BuildStatusComplete, Repository: "127.0.0.1:5000/app1",
		Cache: []structs.BuildServiceSummary{{Service: "web", Steps: 3}}}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, b, "rack1/app1", map[string]v1.Image{"web": web, "worker": worker}))

	names, content := members(t, buf.Bytes())
	assert.Equal(t, []string{"build.json", "app1.BABCDEFGHIJ.tar"}, names)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(content["build.json"], &fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"id", "app", "description", "entrypoint", "git-sha", "logs", "manifest",
		"process", "release", "reason", "status", "wildcard-domain", "started", "ended"}, keys, "upstream's build.json fields")

	save := content["app1.BABCDEFGHIJ.tar"]
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(save)), nil })
	require.NoError(t, err)
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	assert.ElementsMatch(t, []string{"rack1/app1:web.BABCDEFGHIJ", "rack1/app1:worker.BABCDEFGHIJ"}, tags)

	a, err := Read(bytes.NewReader(buf.Bytes()), Limits{})
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, b.Id, a.Build.Id)
	assert.Equal(t, b.Manifest, a.Build.Manifest)
	assert.Equal(t, "v1", a.Build.Description)
	assert.Equal(t, []string{"web", "worker"}, a.Services())
	assert.Equal(t, digest(t, web), digest(t, a.Images["web"]))
	assert.Equal(t, digest(t, worker), digest(t, a.Images["worker"]))
}

// Services of one image (two objects, one digest) share one image entry with a
// tag each, as docker save writes them, and read back.
func TestWriteSharesOneImage(t *testing.T) {
	web := randomImage(t)
	again, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(imageTar(t, web))), nil }, nil)
	require.NoError(t, err)
	require.Equal(t, digest(t, web), digest(t, again))
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, structs.Build{Id: "B1", App: "app1"}, "convox/app1", map[string]v1.Image{"web": web, "worker": again}))
	_, content := members(t, buf.Bytes())
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content["app1.B1.tar"])), nil })
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.ElementsMatch(t, []string{"convox/app1:web.B1", "convox/app1:worker.B1"}, m[0].RepoTags)
	a, err := Read(&buf, Limits{})
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, []string{"web", "worker"}, a.Services())
	assert.Equal(t, digest(t, web), digest(t, a.Images["worker"]))
}

func TestWriteRefuses(t *testing.T) {
	img := randomImage(t)
	b := structs.Build{Id: "B1", App: "app1"}
	assert.ErrorContains(t, Write(io.Discard, b, "127.0.0.1:5000/app1", map[string]v1.Image{"web": img}), "registry port")
	assert.ErrorContains(t, Write(io.Discard, b, "app1", map[string]v1.Image{"Web_1": img}), "service name")
	assert.ErrorContains(t, Write(io.Discard, b, "app1", nil), "no images")
}

// entry is one tar entry of a hand-made archive.
type entry struct {
	hdr  tar.Header
	data []byte
}

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		h.Mode = 0o644
		require.NoError(t, tw.WriteHeader(&h))
		_, err := tw.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func archive(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(tarOf(t, entries...))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return &buf
}

func file(name string, data []byte) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, data: data}
}

// saveOf is a `docker save` tarball of images under the given tags.
func saveOf(t *testing.T, tagged map[string]v1.Image) []byte {
	t.Helper()
	refs := map[name.Reference]v1.Image{}
	for tag, img := range tagged {
		ref, err := name.NewTag(tag)
		require.NoError(t, err)
		refs[ref] = img
	}
	var buf bytes.Buffer
	require.NoError(t, tarball.MultiRefWrite(refs, &buf))
	return buf.Bytes()
}

// imageTar is one image as the older layout's images/{service}.tar holds it.
func imageTar(t *testing.T, img v1.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tarball.Write(name.MustParseReference("convox/web:B1"), img, &buf))
	return buf.Bytes()
}

func TestReadsTheOlderLayout(t *testing.T) {
	web := randomImage(t)
	a, err := Read(archive(t, file(BuildFile, []byte(`{"id":"B1","description":"old"}`)),
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "images/"}}, file("images/web.tar", imageTar(t, web))), Limits{})
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, "old", a.Build.Description)
	assert.Equal(t, []string{"web"}, a.Services())
	assert.Equal(t, digest(t, web), digest(t, a.Images["web"]))
}

func TestReadRefuses(t *testing.T) {
	img := randomImage(t)
	buildJSON := file(BuildFile, []byte(`{"id":"B1"}`))
	x := []byte("x")
	goodSave := saveOf(t, map[string]v1.Image{"convox/app1:web.B1": img})
	link := func(typ byte, name, target string) entry {
		return entry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: target}}
	}
	cases := []struct {
		name string
		body *bytes.Buffer
		want string
	}{
		{"not gzip", bytes.NewBufferString("plain text"), "not a gzip file"},
		{"dotdot", archive(t, buildJSON, file("images/../../etc/passwd", x)), "escapes"},
		{"absolute", archive(t, buildJSON, file("/images/web.tar", x)), "absolute"},
		{"symlink", archive(t, buildJSON, link(tar.TypeSymlink, "images/web.tar", "/etc/passwd")), "links"},
		{"hardlink", archive(t, buildJSON, link(tar.TypeLink, "images/web.tar", "build.json")), "links"},
		{"symlinked save", archive(t, buildJSON, link(tar.TypeSymlink, "app1.B1.tar", "/etc/passwd")), "links"},
		{"device", archive(t, buildJSON, entry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "images/web.tar"}}), "regular files"},
		{"bad service", archive(t, buildJSON, file("images/Web_1.tar", x)), "service names"},
		{"stray file", archive(t, buildJSON, file("notes.txt", x)), "expected build.json"},
		{"nested save", archive(t, buildJSON, file("deep/app1.B1.tar", x)), "expected build.json"},
		{"no build.json", archive(t, file("images/web.tar", x)), "build.json is missing"},
		{"no build.json, upstream", archive(t, file("app1.B1.tar", goodSave)), "build.json is missing"},
		{"duplicate", archive(t, buildJSON, buildJSON), "appears twice"},
		{"duplicate image", archive(t, buildJSON, file("images/web.tar", x), file("images/web.tar", x)), "appears twice"},
		{"bad json", archive(t, file(BuildFile, []byte("{")), file("images/web.tar", x)), "build.json"},
		{"no images", archive(t, buildJSON), "no images"},
		{"not an image", archive(t, buildJSON, file("images/web.tar", []byte("garbage"))), "image of web"},
		{"too big", archive(t, buildJSON, file("images/web.tar", bytes.Repeat(x, 1<<16+1))), "more than 65536 bytes"},
		{"two saves", archive(t, buildJSON, file("app1.B1.tar", x), file("app2.B1.tar", x)), "second `docker save`"},
		{"mixed layouts", archive(t, buildJSON, file("app1.B1.tar", x), file("images/web.tar", x)), "mixes"},
		{"mixed layouts, older first", archive(t, buildJSON, file("images/web.tar", x), file("app1.B1.tar", x)), "mixes"},
		{"save not a tar", archive(t, buildJSON, file("app1.B1.tar", []byte("garbage"))), "app1.B1.tar"},
		{"save without manifest", archive(t, buildJSON, file("app1.B1.tar", tarOf(t, file("x.json", []byte("{}"))))), "manifest.json"},
		{"untagged image", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			file("manifest.json", []byte(`[{"Config":"c.json","RepoTags":null,"Layers":[]}]`))))), "has no tag"},
		{"latest tag", archive(t, buildJSON, file("app1.B1.tar", saveOf(t, map[string]v1.Image{"convox/app1:latest": img}))), "{service}.{build} expected"},
		{"bad service tag", archive(t, buildJSON, file("app1.B1.tar", saveOf(t, map[string]v1.Image{"convox/app1:Web_1.B1": img}))), "{service}.{build} expected"},
		{"another build", archive(t, buildJSON, file("app1.B1.tar", saveOf(t, map[string]v1.Image{"convox/app1:web.B2": img}))), `of build "B2"`},
		{"service twice", archive(t, buildJSON, file("app1.B1.tar", saveOf(t, map[string]v1.Image{"a/app1:web.B1": img, "b/app1:web.B1": randomImage(t)}))), "two images for service web"},
		{"symlink loop in save", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			link(tar.TypeSymlink, "manifest.json", "manifest.json")))), "not a regular file"},
		{"symlink out of save", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			link(tar.TypeSymlink, "manifest.json", "../../etc/passwd")))), "not a regular file"},
		{"hard link in save", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			file("a", x), link(tar.TypeLink, "manifest.json", "a")))), "only files, directories and symlinks"},
		{"duplicate in save", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			link(tar.TypeSymlink, "manifest.json", "manifest.json"), file("manifest.json", []byte("[]"))))), "appears twice"},
		{"symlink after a file in save", archive(t, buildJSON, file("app1.B1.tar", tarOf(t,
			file("manifest.json", []byte("[]")), link(tar.TypeSymlink, "manifest.json", "manifest.json")))), "appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Read(c.body, Limits{MaxBytes: 1 << 16})
			if err == nil {
				a.Close()
			}
			require.Error(t, err, "archive accepted")
			assert.ErrorIs(t, err, structs.ErrInvalid)
			assert.ErrorContains(t, err, c.want)
		})
	}
	t.Run("too many images", func(t *testing.T) {
		body := archive(t, buildJSON, file("app1.B1.tar", saveOf(t, map[string]v1.Image{"a/app1:web.B1": img, "a/app1:worker.B1": img})))
		_, err := Read(body, Limits{MaxImages: 1})
		assert.ErrorIs(t, err, structs.ErrInvalid)
		assert.ErrorContains(t, err, "more than 1 images")
	})
	t.Run("truncated", func(t *testing.T) {
		var good bytes.Buffer
		require.NoError(t, Write(&good, structs.Build{Id: "B1", App: "app1"}, "convox/app1", map[string]v1.Image{"web": img}))
		_, err := Read(bytes.NewReader(good.Bytes()[:good.Len()/2]), Limits{})
		assert.ErrorIs(t, err, structs.ErrInvalid)
		assert.ErrorContains(t, err, "EOF")
		a, err := Read(&good, Limits{MaxImages: 1})
		require.NoError(t, err, "good archive refused")
		a.Close()
	})
}
