package aws_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

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
	if err != nil {
		return ""
	}
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
	require.Equal(t, reg.Host+"/convox/src", b.Repository, "push repository = %s, want the injected registry", b.Repository)
	_, err = r.p.BuildUpdate("src", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	var out bytes.Buffer
	err = r.p.BuildExport("src", b.Id, &out)
	require.ErrorIs(t, err, structs.ErrInvalid, "exporting a running build: %v", err)

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
	nb, err := r.p.BuildImport("dst", bytes.NewReader(archive))
	require.NoError(t, err)
	require.False(t, nb.Id == b.Id, "imported build = %+v", nb)
	require.EqualValues(t, "dst", nb.App, "imported build = %+v", nb)
	require.Equal(t, structs.BuildStatusComplete, nb.Status, "imported build = %+v", nb)
	require.Equal(t, manifest, nb.Manifest, "imported build = %+v", nb)
	require.EqualValues(t, "v1", nb.Description, "imported build = %+v", nb)
	for service, d := range want {
		got := digestIn(t, reg, "convox/dst", images.Tag(service, nb.Id))
		assert.Equal(t, d, got, "%s in dst under the new id: digest %q, want %q", service, got, d)
		got = digestIn(t, reg, "convox/dst", images.Tag(service, b.Id))
		assert.Empty(t, got, "%s in dst under the old id", service)
	}
	assert.Empty(t, digestIn(t, reg, "convox/dst", "web.BOTHERBUILD"), "another build's image came along")
	got, err := r.p.BuildGet("dst", nb.Id)
	require.NoError(t, err, "BuildGet of the import = %+v, %v", got, err)
	require.Equal(t, structs.BuildStatusComplete, got.Status, "BuildGet of the import = %+v, %v", got, err)
	require.NotEmpty(t, got.Release, "BuildGet of the import = %+v, %v", got, err)
	rel, err := r.p.ReleaseGet("dst", got.Release)
	require.NoError(t, err, "release of the import = %+v, %v", rel, err)
	require.Equal(t, nb.Id, rel.Build, "release of the import = %+v, %v", rel, err)

	t.Run("a second import is another build", func(t *testing.T) {
		again, err := r.p.BuildImport("dst", bytes.NewReader(archive))
		require.NoError(t, err)
		require.False(t, again.Id == nb.Id, "second import = %+v", again)
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
		for name, body := range map[string][]byte{"symlink": evil.Bytes(), "truncated": archive[:len(archive)/2], "text": []byte("hello")} {
			_, err := r.p.BuildImport("dst", bytes.NewReader(body))
			assert.ErrorIs(t, err, structs.ErrInvalid, "%s archive: %v", name, err)
		}
		after, err := r.p.BuildList("dst", structs.BuildListOptions{Limit: ptr(100)})
		require.NoError(t, err)
		assert.Len(t, after, len(before), "refused imports left builds: %d -> %d", len(before), len(after))
		_, err = r.p.BuildImport("nope", bytes.NewReader(archive))
		assert.ErrorIs(t, err, structs.ErrNotFound, "import into a missing app: %v", err)
	})
}
