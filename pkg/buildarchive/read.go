package buildarchive

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/convox/rack/pkg/structs"
)

// ErrInvalid marks an archive refused on import; it wraps structs.ErrInvalid so the API answers 400.
var ErrInvalid = fmt.Errorf("invalid build archive: %w", structs.ErrInvalid)

// Limits bound what an imported archive may hold; zero fields take DefaultLimits.
type Limits struct {
	// MaxBytes is the total unpacked size of all entries.
	MaxBytes int64
	// MaxImages is the number of service images.
	MaxImages int
}

// DefaultLimits fit real builds and stop archive bombs.
var DefaultLimits = Limits{MaxBytes: 20 << 30, MaxImages: 100}

// maxBuildJSON bounds build.json, which holds a manifest and a few fields.
const maxBuildJSON = 4 << 20

// serviceName is a convox.yml service name: lowercase letters, digits and inner dashes.
var serviceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// saveName is a top-level `docker save` entry, upstream's {app}.{build}.tar.
var saveName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,250}\.tar$`)

// CheckService reports whether s can name a service image in an archive and in an image tag.
func CheckService(s string) error {
	if !serviceName.MatchString(s) {
		return fmt.Errorf("service name %q: lowercase letters, digits and dashes expected: %w", s, ErrInvalid)
	}
	return nil
}

// Archive is an unpacked, validated archive; Close removes its files.
type Archive struct {
	// Build is build.json as exported.
	Build structs.Build
	// Images maps each service to its image, read from the unpacked files.
	Images map[string]v1.Image
	dir    string
}

// Services lists the archive's services in order.
func (a *Archive) Services() []string {
	out := make([]string, 0, len(a.Images))
	for s := range a.Images {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Close removes the unpacked files.
func (a *Archive) Close() error {
	return os.RemoveAll(a.dir)
}

// Read unpacks and validates an archive from an untrusted r, in either layout:
// only build.json with one {app}.{build}.tar `docker save`, or with
// images/{service}.tar files; regular files only, no links, no escaping or
// duplicate paths, within limits, and each image readable.
func Read(r io.Reader, limits Limits) (*Archive, error) {
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if limits.MaxImages <= 0 {
		limits.MaxImages = DefaultLimits.MaxImages
	}
	dir, err := os.MkdirTemp("", "buildarchive-")
	if err != nil {
		return nil, fmt.Errorf("unpacking archive: %w", err)
	}
	a := &Archive{Images: map[string]v1.Image{}, dir: dir}
	if err := a.unpack(r, limits); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// entryKind is what an accepted archive entry holds.
type entryKind int

const (
	kindSkip  entryKind = iota // the images/ directory itself
	kindBuild                  // build.json
	kindImage                  // images/{service}.tar
	kindSave                   // {app}.{build}.tar, a `docker save`
)

// unpacked is what the entries of an archive left on disk.
type unpacked struct {
	buildJSON []byte
	images    map[string]string // service → image tarball (older layout)
	saveEntry string            // the `docker save` entry's name (upstream layout)
	savePath  string
}

// unpack reads every entry of r into a.dir, then loads build.json and the images.
func (a *Archive) unpack(r io.Reader, limits Limits) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzip file: %v: %w", err, ErrInvalid)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	u := unpacked{images: map[string]string{}}
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %v: %w", err, ErrInvalid)
		}
		kind, entry, err := checkEntry(hdr)
		if err != nil {
			return err
		}
		if kind == kindSkip {
			continue
		}
		total += hdr.Size
		if total > limits.MaxBytes {
			return fmt.Errorf("archive unpacks to more than %d bytes: %w", limits.MaxBytes, ErrInvalid)
		}
		if err := u.add(kind, entry, hdr.Size, tr, a.dir, limits); err != nil {
			return err
		}
	}
	if u.buildJSON == nil {
		return fmt.Errorf("%s is missing: %w", BuildFile, ErrInvalid)
	}
	if err := json.Unmarshal(u.buildJSON, &a.Build); err != nil {
		return fmt.Errorf("%s: %v: %w", BuildFile, err, ErrInvalid)
	}
	switch {
	case u.savePath != "":
		a.Images, err = loadSave(u.savePath, u.saveEntry, a.Build.Id, limits.MaxImages)
		return err
	case len(u.images) > 0:
		return a.loadImages(u.images)
	}
	return fmt.Errorf("archive holds no images (expected %s with a `docker save` %s, or %s{service}.tar): %w",
		BuildFile, SaveFile("{app}", "{build}"), ImageDir, ErrInvalid)
}

// add keeps one accepted entry: build.json in memory, image tarballs on disk under dir.
func (u *unpacked) add(kind entryKind, entry string, size int64, r io.Reader, dir string, limits Limits) error {
	var err error
	switch kind {
	case kindBuild:
		if u.buildJSON != nil {
			return fmt.Errorf("%s appears twice: %w", entry, ErrInvalid)
		}
		if size > maxBuildJSON {
			return fmt.Errorf("%s is larger than %d bytes: %w", BuildFile, maxBuildJSON, ErrInvalid)
		}
		if u.buildJSON, err = io.ReadAll(io.LimitReader(r, maxBuildJSON+1)); err != nil {
			return fmt.Errorf("reading %s: %v: %w", BuildFile, err, ErrInvalid)
		}
		return nil
	case kindSave:
		if u.saveEntry != "" {
			return fmt.Errorf("%s: a second `docker save` entry after %s, one expected: %w", entry, u.saveEntry, ErrInvalid)
		}
		if len(u.images) > 0 {
			return fmt.Errorf("%s: archive mixes a `docker save` with %s{service}.tar entries, one layout expected: %w", entry, ImageDir, ErrInvalid)
		}
		u.saveEntry, u.savePath = entry, filepath.Join(dir, "docker-save.tar")
		if err := copyFile(u.savePath, r, size); err != nil {
			return fmt.Errorf("unpacking %s: %w", entry, err)
		}
		return nil
	}
	service := strings.TrimSuffix(strings.TrimPrefix(entry, ImageDir), ".tar")
	if _, dup := u.images[service]; dup {
		return fmt.Errorf("%s appears twice: %w", entry, ErrInvalid)
	}
	if u.saveEntry != "" {
		return fmt.Errorf("%s: archive mixes %s{service}.tar entries with the `docker save` %s, one layout expected: %w", entry, ImageDir, u.saveEntry, ErrInvalid)
	}
	if len(u.images) >= limits.MaxImages {
		return fmt.Errorf("archive holds more than %d images: %w", limits.MaxImages, ErrInvalid)
	}
	path := filepath.Join(dir, "service-"+service+".tar")
	if err := copyFile(path, r, size); err != nil {
		return fmt.Errorf("unpacking %s: %w", entry, err)
	}
	u.images[service] = path
	return nil
}

// loadImages opens the one-image tarballs of the older layout (service → file).
func (a *Archive) loadImages(files map[string]string) error {
	for service, path := range files {
		img, err := tarball.ImageFromPath(path, nil)
		if err == nil {
			_, err = img.Manifest()
		}
		if err != nil {
			return fmt.Errorf("image of %s: %v: %w", service, err, ErrInvalid)
		}
		a.Images[service] = img
	}
	return nil
}

// checkEntry accepts build.json, a top-level {name}.tar and images/{service}.tar
// as regular files and the images/ directory (kindSkip); anything else is
// refused, naming it.
func checkEntry(hdr *tar.Header) (entryKind, string, error) {
	n := hdr.Name
	refuse := func(why string) (entryKind, string, error) {
		return kindSkip, "", fmt.Errorf("entry %q: %s: %w", n, why, ErrInvalid)
	}
	if strings.HasPrefix(n, "/") || strings.Contains(n, "\\") {
		return refuse("absolute or backslashed path")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return refuse("path escapes the archive")
		}
	}
	n = strings.TrimPrefix(n, "./")
	switch hdr.Typeflag {
	case tar.TypeDir:
		if n == ImageDir || n == strings.TrimSuffix(ImageDir, "/") {
			return kindSkip, "", nil
		}
		return refuse("unexpected directory")
	case tar.TypeReg:
	case tar.TypeSymlink, tar.TypeLink:
		return refuse("links are not allowed")
	default:
		return refuse("only regular files are allowed")
	}
	if hdr.Size < 0 {
		return refuse("negative size")
	}
	if n == BuildFile {
		return kindBuild, n, nil
	}
	if saveName.MatchString(n) {
		return kindSave, n, nil
	}
	rest, ok := strings.CutPrefix(n, ImageDir)
	service, isTar := strings.CutSuffix(rest, ".tar")
	if !ok || !isTar {
		return refuse("expected build.json, a `docker save` {app}.{build}.tar or images/{service}.tar")
	}
	if !serviceName.MatchString(service) {
		return refuse("service names are lowercase letters, digits and dashes")
	}
	return kindImage, n, nil
}
