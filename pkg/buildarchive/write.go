// Package buildarchive is the `convox builds export/import` file format, shared
// by every provider. An archive is a gzip tar holding build.json (the build) and
// its service images in one of two layouts:
//
//   - upstream (what Write makes, what upstream Convox racks export and import):
//     one `docker save` tarball named {app}.{build}.tar holding every image of the
//     build, each tagged {repo}:{service}.{build};
//   - images/{service}.tar: one image tarball per service, written by earlier
//     versions of this rack, still read.
package buildarchive

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/convox/rack/pkg/structs"
)

// Entry names inside an archive.
const (
	BuildFile = "build.json"
	// ImageDir holds one image tarball per service in the older layout.
	ImageDir = "images/"
)

// SaveFile is the name of the `docker save` entry of build id of app, as upstream names it.
func SaveFile(app, id string) string {
	return app + "." + id + ".tar"
}

// ImageTag is the tag of a service's image in the `docker save` entry: {service}.{build}.
func ImageTag(service, build string) string {
	return service + "." + build
}

// upstreamBuild is build.json as upstream Convox writes and reads it: these
// fields, in this order, and nothing this rack adds (repository, cache).
type upstreamBuild struct {
	Id             string    `json:"id"`
	App            string    `json:"app"`
	Description    string    `json:"description"`
	Entrypoint     string    `json:"entrypoint"`
	GitSha         string    `json:"git-sha"`
	Logs           string    `json:"logs"`
	Manifest       string    `json:"manifest"`
	Process        string    `json:"process"`
	Release        string    `json:"release"`
	Reason         string    `json:"reason"`
	Status         string    `json:"status"`
	WildcardDomain bool      `json:"wildcard-domain"`
	Started        time.Time `json:"started"`
	Ended          time.Time `json:"ended"`
}

// Write streams b and its service images (service name → image) to w in the
// upstream layout, the images tagged {repo}:{service}.{build}. repo is a
// repository name without a registry port: upstream importers split tags at
// the first colon.
func Write(w io.Writer, b structs.Build, repo string, images map[string]v1.Image) error {
	if len(images) == 0 {
		return fmt.Errorf("build %s has no images to export", b.Id)
	}
	if strings.Contains(repo, ":") {
		return fmt.Errorf("image repository %q: a name without a registry port expected, upstream importers split tags at the first colon", repo)
	}
	refs := map[name.Reference]v1.Image{}
	byDigest := map[v1.Hash]v1.Image{}
	for service, img := range images {
		if err := CheckService(service); err != nil {
			return err
		}
		// Services of one image share one entry with a tag each, as docker save writes them.
		d, err := img.Digest()
		if err != nil {
			return fmt.Errorf("reading image of %s: %w", service, err)
		}
		if first, ok := byDigest[d]; ok {
			img = first
		}
		byDigest[d] = img
		tag, err := name.NewTag(repo + ":" + ImageTag(service, b.Id))
		if err != nil {
			return fmt.Errorf("naming image of %s: %w", service, err)
		}
		refs[tag] = img
	}
	// The tar entry needs its size up front: the tarball package computes it
	// from the image manifests, so images stream through without staging.
	size, err := tarball.CalculateSize(refs)
	if err != nil {
		return fmt.Errorf("sizing the images of build %s: %w", b.Id, err)
	}
	data, err := json.MarshalIndent(upstreamBuild{
		Id: b.Id, App: b.App, Description: b.Description, Entrypoint: b.Entrypoint, GitSha: b.GitSha,
		Logs: b.Logs, Manifest: b.Manifest, Process: b.Process, Release: b.Release, Reason: b.Reason,
		Status: b.Status, WildcardDomain: b.WildcardDomain, Started: b.Started, Ended: b.Ended,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding build: %w", err)
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	now := time.Now().UTC().Truncate(time.Second) // whole seconds: tar never sees a member from the future
	if err := writeHeader(tw, BuildFile, int64(len(data)), now); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", BuildFile, err)
	}
	save := SaveFile(b.App, b.Id)
	if err := writeHeader(tw, save, size, now); err != nil {
		return err
	}
	if err := tarball.MultiRefWrite(refs, tw); err != nil {
		return fmt.Errorf("writing %s: %w", save, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("closing archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("closing archive: %w", err)
	}
	return nil
}

// writeHeader starts one regular file of tw; 0600 as upstream writes them.
func writeHeader(tw *tar.Writer, path string, size int64, mtime time.Time) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: 0o600, Size: size, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
