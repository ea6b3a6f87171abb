// Package baseimages puts the Docker Hub images example apps start from
// (busybox, debian:bookworm-slim) into the rack's registry, made from the
// pinned tools, because a local rack may have no route to Docker Hub; builds
// reach them through the registry's docker.io mirror role.
package baseimages

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Sources are the files the images are made of.
type Sources struct {
	// Busybox is a static busybox binary.
	Busybox string
	// DebianRootfs is a debootstrap minbase rootfs tarball (plain or gzip).
	DebianRootfs string
}

// Seed pushes library/busybox:latest and library/debian:bookworm-slim to the
// registry at host unless they are there already; a missing source is skipped
// and reported in the returned list.
func Seed(ctx context.Context, host string, auth authn.Authenticator, src Sources) (missing []string, err error) {
	images := []struct {
		ref  string
		file string
		make func(string) (v1.Image, error)
	}{
		{"library/busybox:latest", src.Busybox, busybox},
		{"library/debian:bookworm-slim", src.DebianRootfs, debian},
	}
	opts := []remote.Option{remote.WithAuth(auth), remote.WithContext(ctx)}
	for _, im := range images {
		tag, err := name.NewTag(host+"/"+im.ref, name.Insecure)
		if err != nil {
			return nil, err
		}
		if _, err := remote.Head(tag, opts...); err == nil {
			continue
		}
		if _, err := os.Stat(im.file); err != nil || im.file == "" {
			missing = append(missing, im.ref)
			continue
		}
		img, err := im.make(im.file)
		if err != nil {
			return nil, fmt.Errorf("making %s: %w", im.ref, err)
		}
		if err := remote.Write(tag, img, opts...); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", im.ref, err)
		}
	}
	return missing, nil
}

// busybox is one layer: the binary in /bin with its common applets linked.
func busybox(path string) (v1.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]int64{"bin/": 0o755, "etc/": 0o755, "root/": 0o700, "tmp/": 0o1777}
	for _, d := range []string{"bin/", "etc/", "root/", "tmp/"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: dirs[d]})
	}
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data))})
	tw.Write(data)
	for _, applet := range []string{"sh", "cat", "cp", "echo", "env", "grep", "ls", "mkdir", "mv", "rm", "sed", "sleep", "tar", "touch", "wc", "date", "head", "tail", "true", "false", "sha256sum", "dd", "seq", "find", "chmod", "ln"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777})
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\n")
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))})
	tw.Write(passwd)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		return nil, err
	}
	return withConfig(layer, "sh")
}

// debian is the rootfs tarball as one layer.
func debian(path string) (v1.Image, error) {
	if gz := path + ".gz"; fileExists(gz) {
		path = gz // compressed once already, e.g. by the test harness
	}
	layer, err := tarball.LayerFromFile(path)
	if err != nil {
		return nil, err
	}
	return withConfig(layer, "bash")
}

func withConfig(layer v1.Layer, cmd string) (v1.Image, error) {
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
	cf.Config.Cmd = []string{cmd}
	return mutate.ConfigFile(img, cf)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
