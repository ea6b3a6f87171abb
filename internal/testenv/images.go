package testenv

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/internal/baseimages"

	"github.com/stretchr/testify/require"
)

// SeedBaseImages pushes busybox:latest and debian:bookworm-slim into reg, the
// same way a local rack seeds its own registry, so builds that mirror
// docker.io to it can say `FROM debian:bookworm-slim`.
func SeedBaseImages(t testing.TB, reg *Registry) {
	t.Helper()
	src := baseimages.Sources{Busybox: BusyboxPath(t), DebianRootfs: DebianRootfsTar(t)}
	missing, err := baseimages.Seed(context.Background(), reg.Host, reg.Auth(), src)
	require.NoError(t, err, "seeding base images")
	if len(missing) > 0 {
		Missing(t, "base image sources for %v", missing)
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

// ReadLayers downloads every layer of img to the end, so a missing or
// truncated blob is an error (the client checks each digest).
func ReadLayers(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			d, _ := l.Digest()
			return fmt.Errorf("layer %s: %w", d, err)
		}
	}
	return nil
}

// ImageFile reads one file of the image at ref, as its flattened filesystem
// has it: what a container of the image would see at path.
func ImageFile(ref, path string, auth authn.Authenticator) (string, error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return "", err
	}
	img, err := remote.Image(r, remote.WithAuth(auth))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", ref, err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s not in %s", path, ref)
		}
		if err != nil {
			return "", fmt.Errorf("%s in %s: %w", path, ref, err)
		}
		if strings.TrimPrefix(strings.TrimPrefix(hdr.Name, "./"), "/") == path {
			data, err := io.ReadAll(tr)
			return string(data), err
		}
	}
}
