// Package buildarchive is the `convox builds export/import` file format, shared
// by every provider: a gzip tar holding build.json (a structs.Build) and each
// service image as a go-containerregistry tarball under images/{service}.tar.
package buildarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/convox/rack/pkg/structs"
)

// Entry names inside an archive.
const (
	BuildFile = "build.json"
	ImageDir  = "images/"
)

// Write streams b and its service images (service name → image) to w as an archive.
// Each image is staged in a temporary file first, because a tar entry needs its size up front.
func Write(w io.Writer, b structs.Build, images map[string]v1.Image) error {
	if len(images) == 0 {
		return fmt.Errorf("build %s has no images to export", b.Id)
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding build: %w", err)
	}
	now := time.Now().UTC()
	if err := writeEntry(tw, BuildFile, int64(len(data)), now, bytes.NewReader(data)); err != nil {
		return err
	}
	services := make([]string, 0, len(images))
	for s := range images {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, s := range services {
		if err := CheckService(s); err != nil {
			return err
		}
		if err := writeImage(tw, s, b.Id, images[s], now); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("closing archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("closing archive: %w", err)
	}
	return nil
}

// writeImage stages img as a tarball in a temporary file and copies it into tw.
func writeImage(tw *tar.Writer, service, build string, img v1.Image, mtime time.Time) error {
	tag, err := name.NewTag(fmt.Sprintf("convox/%s:%s", service, build))
	if err != nil {
		return fmt.Errorf("naming image of %s: %w", service, err)
	}
	f, err := os.CreateTemp("", "buildarchive-*.tar")
	if err != nil {
		return fmt.Errorf("staging image of %s: %w", service, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := tarball.Write(tag, img, f); err != nil {
		return fmt.Errorf("reading image of %s: %w", service, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("staging image of %s: %w", service, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("staging image of %s: %w", service, err)
	}
	return writeEntry(tw, ImageDir+service+".tar", size, mtime, f)
}

// writeEntry adds one regular file to tw.
func writeEntry(tw *tar.Writer, path string, size int64, mtime time.Time, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: 0o644, Size: size, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
