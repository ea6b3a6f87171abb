package aws_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
	"github.com/convox/rack/provider/aws/images"
)

// digestIn is the digest of repo:tag in reg, or "" when it is not there.
func digestIn(t *testing.T, reg *testenv.Registry, repo, tag string) string {
	t.Helper()
	ref, err := name.NewTag(reg.Host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.PushImage(reg, repo+":"+tag, img); err != nil {
		t.Fatal(err)
	}
	return digest(t, img)
}

func digest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
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
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: pairs[i].(string), Mode: 0o600, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// entryNames lists the entries of a gzip tar.
func entryNames(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

func TestExportImport(t *testing.T) {
	reg := testenv.StartRegistry(t)
	r := newRack(t, map[string]string{"BuildMethod": "fargate"},
		aws.WithRegistry(aws.StaticRegistry(images.Login{Host: reg.Host, Username: reg.Username, Password: reg.Password})))
	for _, app := range []string{"src", "dst"} {
		if _, err := r.p.AppCreate(app, structs.AppCreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := r.p.BuildCreate("src", "object://src/tmp/src.tgz", structs.BuildCreateOptions{Description: ptr("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if b.Repository != reg.Host+"/convox/src" {
		t.Fatalf("push repository = %s, want the injected registry", b.Repository)
	}
	if _, err := r.p.BuildUpdate("src", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.p.BuildExport("src", b.Id, &out); !errors.Is(err, structs.ErrInvalid) {
		t.Fatalf("exporting a running build: %v", err)
	}

	want := map[string]string{
		"web":    pushAs(t, reg, "convox/src", images.Tag("web", b.Id)),
		"worker": pushAs(t, reg, "convox/src", images.Tag("worker", b.Id)),
	}
	pushAs(t, reg, "convox/src", "web.BOTHERBUILD") // another build's image stays behind
	manifest := "services:\n  web:\n    build: .\n  worker:\n    build: .\n"
	if _, err := r.p.BuildUpdate("src", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusComplete), Manifest: &manifest}); err != nil {
		t.Fatal(err)
	}

	if err := r.p.BuildExport("src", b.Id, &out); err != nil {
		t.Fatal(err)
	}
	archive := out.Bytes()
	if names := entryNames(t, archive); len(names) != 2 || names[0] != "build.json" || names[1] != "src."+b.Id+".tar" {
		t.Fatalf("archive entries = %v, want upstream's build.json and src.%s.tar", names, b.Id)
	}
	nb, err := r.p.BuildImport("dst", bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if nb.Id == b.Id || nb.App != "dst" || nb.Status != structs.BuildStatusComplete || nb.Manifest != manifest || nb.Description != "v1" {
		t.Fatalf("imported build = %+v", nb)
	}
	for service, d := range want {
		if got := digestIn(t, reg, "convox/dst", images.Tag(service, nb.Id)); got != d {
			t.Errorf("%s in dst under the new id: digest %q, want %q", service, got, d)
		}
		if got := digestIn(t, reg, "convox/dst", images.Tag(service, b.Id)); got != "" {
			t.Errorf("%s in dst under the old id", service)
		}
	}
	if digestIn(t, reg, "convox/dst", "web.BOTHERBUILD") != "" {
		t.Error("another build's image came along")
	}
	got, err := r.p.BuildGet("dst", nb.Id)
	if err != nil || got.Status != structs.BuildStatusComplete || got.Release == "" {
		t.Fatalf("BuildGet of the import = %+v, %v", got, err)
	}
	rel, err := r.p.ReleaseGet("dst", got.Release)
	if err != nil || rel.Build != nb.Id || rel.Description != "v1" {
		t.Fatalf("release of the import = %+v, %v", rel, err)
	}

	t.Run("an upstream rack's archive", func(t *testing.T) {
		web, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag("123456789012.dkr.ecr.us-east-1.amazonaws.com/convox-src-abcdef:web.BUPSTREAMAA")
		if err != nil {
			t.Fatal(err)
		}
		var save bytes.Buffer
		if err := tarball.MultiRefWrite(map[name.Reference]v1.Image{tag: web}, &save); err != nil {
			t.Fatal(err)
		}
		up := tgz(t, "build.json", []byte(`{"id":"BUPSTREAMAA","app":"src","description":"upstream","manifest":"services:\n  web:\n    build: .\n","status":"complete"}`),
			"src.BUPSTREAMAA.tar", save.Bytes())
		ub, err := r.p.BuildImport("dst", bytes.NewReader(up))
		if err != nil {
			t.Fatal(err)
		}
		if got := digestIn(t, reg, "convox/dst", images.Tag("web", ub.Id)); got != digest(t, web) || ub.Description != "upstream" {
			t.Errorf("upstream import = %+v, web digest %q, want %q", ub, got, digest(t, web))
		}
	})

	t.Run("a second import is another build", func(t *testing.T) {
		again, err := r.p.BuildImport("dst", bytes.NewReader(archive))
		if err != nil {
			t.Fatal(err)
		}
		if again.Id == nb.Id || digestIn(t, reg, "convox/dst", images.Tag("web", again.Id)) != want["web"] {
			t.Fatalf("second import = %+v", again)
		}
	})

	t.Run("bad archives are refused and leave no build", func(t *testing.T) {
		before, err := r.p.BuildList("dst", structs.BuildListOptions{Limit: ptr(100)})
		if err != nil {
			t.Fatal(err)
		}
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
			if _, err := r.p.BuildImport("dst", bytes.NewReader(body)); !errors.Is(err, structs.ErrInvalid) {
				t.Errorf("%s archive: %v", name, err)
			}
		}
		after, err := r.p.BuildList("dst", structs.BuildListOptions{Limit: ptr(100)})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("refused imports left builds: %d -> %d", len(before), len(after))
		}
		if _, err := r.p.BuildImport("nope", bytes.NewReader(archive)); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("import into a missing app: %v", err)
		}
	})
}
