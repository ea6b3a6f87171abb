package aws_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
	"github.com/convox/rack/provider/aws/images"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// digestIn is the digest of repo:tag in reg, or "" when it is not there.
func digestIn(t *testing.T, reg *testenv.Registry, repo, tag string) string {
	t.Helper()
	ref, err := name.NewTag(reg.Host + "/" + repo + ":" + tag)
	require.NoError(t, err)
	d, err := remote.Head(ref, remote.WithAuth(reg.Auth()))
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return ""
	}
	require.NoError(t, err, "looking up %s", ref)
	return d.Digest.String()
}

// pushAs plays the build task: it pushes img as repo:tag into reg.
func pushAs(t *testing.T, reg *testenv.Registry, repo, tag string) string {
	t.Helper()
	img, err := random.Image(1024, 2)
	require.NoError(t, err)
	require.NoError(t, testenv.PushImage(reg, repo+":"+tag, img))
	return digest(t, img)
}

func digest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

// tgz is a gzip tar of name, content pairs, in order.
func tgz(t *testing.T, pairs ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := 0; i+1 < len(pairs); i += 2 {
		data := pairs[i+1].([]byte)
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: pairs[i].(string), Mode: 0o600, Size: int64(len(data))}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// entryNames lists the entries of a gzip tar.
func entryNames(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
	}
}

func TestExportImport(t *testing.T) {
	reg := testenv.StartRegistry(t)
	r := newRack(t, map[string]string{"BuildMethod": "fargate"},
		aws.WithRegistry(aws.StaticRegistry(images.Login{Host: reg.Host, Username: reg.Username, Password: reg.Password})))
	for _, app := range []string{"src", "dst"} {
		_, err := r.p.AppCreate(app, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	b, err := r.p.BuildCreate("src", "object://src/tmp/src.tgz", structs.BuildCreateOptions{Description: ptr("v1")})
	require.NoError(t, err)
	require.Equal(t, reg.Host+"/convox/src", b.Repository, "push repository, want the injected registry")
	_, err = r.p.BuildUpdate("src", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	var out bytes.Buffer
	require.ErrorIs(t, r.p.BuildExport("src", b.Id, &out), structs.ErrInvalid, "exporting a running build")

	want := map[string]string{
		"web":    pushAs(t, reg, "convox/src", images.Tag("web", b.Id)),
		"worker": pushAs(t, reg, "convox/src", images.Tag("worker", b.Id)),
	}
	pushAs(t, reg, "convox/src", "web.BOTHERBUILD") // another build's image stays behind
	manifest := "services:\n  web:\n    build: .\n  worker:\n    build: .\n"
	_, err = r.p.BuildUpdate("src", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusComplete), Manifest: &manifest})
	require.NoError(t, err)

	require.NoError(t, r.p.BuildExport("src", b.Id, &out))
	archive := out.Bytes()
	require.Equal(t, []string{"build.json", "src." + b.Id + ".tar"}, entryNames(t, archive), "archive entries, want upstream's build.json and src.%s.tar", b.Id)
	nb, err := r.p.BuildImport("dst", bytes.NewReader(archive))
	require.NoError(t, err)
	require.NotEqual(t, b.Id, nb.Id, "imported build keeps the old id")
	require.Equal(t, "dst", nb.App)
	require.Equal(t, structs.BuildStatusComplete, nb.Status)
	require.Equal(t, manifest, nb.Manifest)
	require.Equal(t, "v1", nb.Description)
	for service, d := range want {
		assert.Equal(t, d, digestIn(t, reg, "convox/dst", images.Tag(service, nb.Id)), "%s in dst under the new id", service)
		assert.Empty(t, digestIn(t, reg, "convox/dst", images.Tag(service, b.Id)), "%s in dst under the old id", service)
	}
	assert.Empty(t, digestIn(t, reg, "convox/dst", "web.BOTHERBUILD"), "another build's image came along")
	got, err := r.p.BuildGet("dst", nb.Id)
	require.NoError(t, err, "BuildGet of the import")
	require.Equal(t, structs.BuildStatusComplete, got.Status, "BuildGet of the import = %+v", got)
	require.NotEmpty(t, got.Release, "BuildGet of the import = %+v", got)
	rel, err := r.p.ReleaseGet("dst", got.Release)
	require.NoError(t, err, "release of the import")
	require.Equal(t, nb.Id, rel.Build, "release of the import = %+v", rel)
	require.Equal(t, "v1", rel.Description, "release of the import = %+v", rel)

	t.Run("an upstream rack's archive", func(t *testing.T) {
		web, err := random.Image(1024, 2)
		require.NoError(t, err)
		tag, err := name.NewTag("123456789012.dkr.ecr.us-east-1.amazonaws.com/convox-src-abcdef:web.BUPSTREAMAA")
		require.NoError(t, err)
		var save bytes.Buffer
		require.NoError(t, tarball.MultiRefWrite(map[name.Reference]v1.Image{tag: web}, &save))
		up := tgz(t, "build.json", []byte(`{"id":"BUPSTREAMAA","app":"src","description":"upstream","manifest":"services:\n  web:\n    build: .\n","status":"complete"}`),
			"src.BUPSTREAMAA.tar", save.Bytes())
		ub, err := r.p.BuildImport("dst", bytes.NewReader(up))
		require.NoError(t, err)
		assert.Equal(t, digest(t, web), digestIn(t, reg, "convox/dst", images.Tag("web", ub.Id)), "web digest of the upstream import %+v", ub)
		assert.Equal(t, "upstream", ub.Description, "upstream import = %+v", ub)
	})

	t.Run("a second import is another build", func(t *testing.T) {
		again, err := r.p.BuildImport("dst", bytes.NewReader(archive))
		require.NoError(t, err)
		require.NotEqual(t, nb.Id, again.Id, "second import = %+v", again)
		require.Equal(t, want["web"], digestIn(t, reg, "convox/dst", images.Tag("web", again.Id)), "second import = %+v", again)
	})

	t.Run("bad archives are refused and leave no build", func(t *testing.T) {
		before, err := r.p.BuildList("dst", structs.BuildListOptions{Limit: ptr(100)})
		require.NoError(t, err)
		var evil bytes.Buffer
		zw := gzip.NewWriter(&evil)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "build.json", Size: 2, Mode: 0o644})
		tw.Write([]byte("{}"))
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "images/web.tar", Linkname: "/etc/shadow", Mode: 0o777})
		tw.Close()
		zw.Close()
		mixed := tgz(t, "build.json", []byte(`{"id":"B1"}`), "src.B1.tar", []byte("x"), "images/web.tar", []byte("x"))
		for name, body := range map[string][]byte{"symlink": evil.Bytes(), "truncated": archive[:len(archive)/2], "text": []byte("hello"), "mixed layouts": mixed} {
			_, err := r.p.BuildImport("dst", bytes.NewReader(body))
			assert.ErrorIs(t, err, structs.ErrInvalid, "%s archive", name)
		}
		after, err := r.p.BuildList("dst", structs.BuildListOptions{Limit: ptr(100)})
		require.NoError(t, err)
		assert.Len(t, after, len(before), "refused imports left builds")
		_, err = r.p.BuildImport("nope", bytes.NewReader(archive))
		assert.ErrorIs(t, err, structs.ErrNotFound, "import into a missing app")
	})
}
