package buildarchive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// loadSave reads the images of the `docker save` file at file (the archive's
// entry named entry): each tag {repo}:{service}.{build}, build being build.json's
// id, names one service's image.
func loadSave(file, entry, build string, maxImages int) (map[string]v1.Image, error) {
	refuse := func(format string, args ...any) (map[string]v1.Image, error) {
		return nil, fmt.Errorf("%s: %s: %w", entry, fmt.Sprintf(format, args...), ErrInvalid)
	}
	if err := checkSaveLinks(file); err != nil {
		return refuse("%v", err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(open)
	if err != nil {
		return refuse("reading manifest.json: %v", err)
	}
	images := map[string]v1.Image{}
	for _, d := range m {
		if len(d.RepoTags) == 0 {
			return refuse("image %s has no tag; each image is tagged {repo}:{service}.{build}", d.Config)
		}
		for _, ref := range d.RepoTags {
			tag, err := name.NewTag(ref)
			if err != nil {
				return refuse("tag %q: %v", ref, err)
			}
			service, id, ok := strings.Cut(tag.TagStr(), ".")
			if !ok || !serviceName.MatchString(service) {
				return refuse("tag %q: {repo}:{service}.{build} expected, the service in lowercase letters, digits and dashes", ref)
			}
			if id != build {
				return refuse("tag %q is of build %q, but %s describes build %q", ref, id, BuildFile, build)
			}
			if _, dup := images[service]; dup {
				return refuse("two images for service %s", service)
			}
			if len(images) >= maxImages {
				return refuse("more than %d images", maxImages)
			}
			img, err := tarball.Image(open, &tag)
			if err == nil {
				_, err = img.Manifest()
			}
			if err != nil {
				return refuse("image of %s: %v", service, err)
			}
			images[service] = img
		}
	}
	if len(images) == 0 {
		return refuse("no images")
	}
	return images, nil
}

// checkSaveLinks refuses a `docker save` file whose links the tarball package
// could follow in a loop: docker links repeated layers with a symlink to a
// regular file, and that is the one link allowed. A name that is a symlink is
// not also another entry, so the target is the file the tarball package finds.
func checkSaveLinks(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	seen, regular := map[string]bool{}, map[string]bool{}
	links := map[string]string{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the tarball: %v", err)
		}
		if _, dup := links[hdr.Name]; dup || seen[hdr.Name] && hdr.Typeflag == tar.TypeSymlink {
			return fmt.Errorf("entry %q appears twice, once as a symlink", hdr.Name)
		}
		seen[hdr.Name] = true
		switch hdr.Typeflag {
		case tar.TypeReg:
			regular[hdr.Name] = true
		case tar.TypeSymlink:
			// Resolved as the tarball package resolves it, inside the tarball.
			links[hdr.Name] = path.Join(path.Dir(hdr.Name), path.Clean(hdr.Linkname))
		case tar.TypeDir:
		default:
			return fmt.Errorf("entry %q: only files, directories and symlinks to files are allowed", hdr.Name)
		}
	}
	for link, target := range links {
		if !regular[target] {
			return fmt.Errorf("symlink %q: its target %q is not a regular file of the tarball", link, target)
		}
	}
	return nil
}
