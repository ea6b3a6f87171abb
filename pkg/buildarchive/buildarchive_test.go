package buildarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestRoundTrip(t *testing.T) {
	web, worker := randomImage(t), randomImage(t)
	b := structs.Build{Id: "BABCDEFGHIJ", App: "app1", Manifest: "services:\n  web: {}\n", Status: structs.BuildStatusComplete}
	var buf bytes.Buffer
	err := Write(&buf, b, map[string]v1.Image{"web": web, "worker": worker})
	require.NoError(t, err)
	a, err := Read(&buf, Limits{})
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, b.Id, a.Build.Id, "build = %+v", a.Build)
	require.Equal(t, b.Manifest, a.Build.Manifest, "build = %+v", a.Build)
	got := strings.Join(a.Services(), ",")
	require.EqualValues(t, "web,worker", got, "services = %s", got)
	require.Equal(t, digest(t, web), digest(t, a.Images["web"]), "image digests changed in the round trip")
	require.Equal(t, digest(t, worker), digest(t, a.Images["worker"]), "image digests changed in the round trip")
}

// entry is one tar entry of a hand-made archive.
type entry struct {
	hdr  tar.Header
	data []byte
}

func archive(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		h.Mode = 0o644
		require.NoError(t, tw.WriteHeader(&h))
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	return &buf
}

func file(name, data string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, data: []byte(data)}
}

func TestReadRefuses(t *testing.T) {
	good := bytes.Buffer{}
	err := Write(&good, structs.Build{Id: "B1"}, map[string]v1.Image{"web": randomImage(t)})
	require.NoError(t, err)
	buildJSON := file(BuildFile, `{"id":"B1"}`)
	cases := []struct {
		name string
		body *bytes.Buffer
		want string
	}{
		{"not gzip", bytes.NewBufferString("plain text"), "not a gzip file"},
		{"dotdot", archive(t, buildJSON, file("images/../../etc/passwd", "x")), "escapes"},
		{"absolute", archive(t, buildJSON, file("/images/web.tar", "x")), "absolute"},
		{"symlink", archive(t, buildJSON, entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "images/web.tar", Linkname: "/etc/passwd"}}), "links"},
		{"hardlink", archive(t, buildJSON, entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "images/web.tar", Linkname: "build.json"}}), "links"},
		{"device", archive(t, buildJSON, entry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "images/web.tar"}}), "regular files"},
		{"bad service", archive(t, buildJSON, file("images/Web_1.tar", "x")), "service names"},
		{"stray file", archive(t, buildJSON, file("notes.txt", "x")), "expected build.json"},
		{"no build.json", archive(t, file("images/web.tar", "x")), "build.json is missing"},
		{"duplicate", archive(t, buildJSON, buildJSON), "appears twice"},
		{"bad json", archive(t, file(BuildFile, "{"), file("images/web.tar", "x")), "build.json"},
		{"no images", archive(t, buildJSON), "no images"},
		{"not an image", archive(t, buildJSON, file("images/web.tar", "garbage")), "image of web"},
		{"too big", archive(t, buildJSON, file("images/web.tar", strings.Repeat("x", 2048))), "more than 1024 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Read(c.body, Limits{MaxBytes: 1024})
			if err == nil {
				a.Close()
			}
			require.Error(t, err, "archive accepted")
			require.ErrorIs(t, err, structs.ErrInvalid, "error = %v, want %q and ErrInvalid", err, c.want)
			require.Contains(t, err.Error(), c.want, "error = %v, want %q and ErrInvalid", err, c.want)
		})
	}
	truncated := bytes.NewReader(good.Bytes()[:good.Len()/2])
	_, err = Read(truncated, Limits{})
	assert.ErrorIs(t, err, structs.ErrInvalid, "truncated archive: %v", err)
	assert.Contains(t, err.Error(), "EOF", "truncated archive: %v", err)
	a, err := Read(&good, Limits{MaxImages: 1})
	require.NoError(t, err, "good archive refused")
	a.Close()
}
