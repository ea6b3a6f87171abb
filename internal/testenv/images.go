package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Base image references as a Dockerfile names them, and where they live in the registry.
const (
	BusyboxRepo = "library/busybox:latest"
	DebianRepo  = "library/debian:bookworm-slim"
)

var layerOnce sync.Mutex

// SeedBaseImages pushes busybox:latest and debian:bookworm-slim into reg, so
// builds that mirror docker.io to it can say `FROM debian:bookworm-slim`.
func SeedBaseImages(t testing.TB, reg *Registry) {
	t.Helper()
	busybox, err := BusyboxImage(BusyboxPath(t))
	if err != nil {
		t.Fatalf("making busybox image: %v", err)
	}
	debian, err := DebianImage(DebianRootfsTar(t))
	if err != nil {
		t.Fatalf("making debian image: %v", err)
	}
	for ref, img := range map[string]v1.Image{BusyboxRepo: busybox, DebianRepo: debian} {
		if err := PushImage(reg, ref, img); err != nil {
			t.Fatalf("seeding %s: %v", ref, err)
		}
	}
}

// PushImage writes img to reg under repo:tag.
func PushImage(reg *Registry, ref string, img v1.Image) error {
	tag, err := name.NewTag(reg.Host+"/"+ref, name.Insecure)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", ref, err)
	}
	if err := remote.Write(tag, img, remote.WithAuth(reg.Auth())); err != nil {
		return fmt.Errorf("pushing %s: %w", tag, err)
	}
	return nil
}

// BusyboxImage is a one-layer image of the static busybox with its applets linked in /bin.
func BusyboxImage(busybox string) (v1.Image, error) {
	data, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"bin/", "tmp/", "etc/", "root/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: mode})
	}
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data))})
	tw.Write(data)
	for _, applet := range []string{"sh", "ls", "cat", "echo", "mkdir", "rm", "cp", "mv", "sleep", "sed", "grep", "head", "tail", "wc", "sha256sum", "dd", "tar", "gzip", "env", "true", "false", "test", "touch", "chmod", "find", "seq", "awk", "date", "id", "uname", "md5sum", "yes", "tr", "sort", "xargs", "ln", "du"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777})
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\n")
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))})
	tw.Write(passwd)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("busybox layer: %w", err)
	}
	return baseImage(layer, []string{"sh"})
}

// DebianImage is a one-layer image of the debootstrap rootfs; its gzip layer is
// made once and kept beside the tarball.
func DebianImage(rootfsTar string) (v1.Image, error) {
	gz := rootfsTar + ".gz"
	if err := gzipOnce(rootfsTar, gz); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(gz)
	if err != nil {
		return nil, fmt.Errorf("debian layer: %w", err)
	}
	return baseImage(layer, []string{"bash"})
}

func baseImage(layer v1.Layer, cmd []string) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = cmd
	return mutate.ConfigFile(img, cf)
}

func gzipOnce(src, dst string) error {
	layerOnce.Lock()
	defer layerOnce.Unlock()
	if srcInfo, err := os.Stat(src); err == nil {
		if dstInfo, err := os.Stat(dst); err == nil && dstInfo.ModTime().After(srcInfo.ModTime()) {
			return nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".layer-*")
	if err != nil {
		return fmt.Errorf("creating layer: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw, _ := gzip.NewWriterLevel(tmp, gzip.BestSpeed)
	if _, err := io.Copy(zw, in); err != nil {
		tmp.Close()
		return fmt.Errorf("compressing %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
