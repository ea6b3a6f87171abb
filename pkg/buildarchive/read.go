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

// Read unpacks and validates an archive from an untrusted r: only build.json and
// images/{service}.tar regular files, no links, no escaping or duplicate paths,
// within limits, and each image readable.
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

// unpack reads every entry of r into a.dir, then loads build.json and the images.
func (a *Archive) unpack(r io.Reader, limits Limits) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzip file: %v: %w", err, ErrInvalid)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var total int64
	var buildJSON []byte
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %v: %w", err, ErrInvalid)
		}
		entry, err := checkEntry(hdr)
		if err != nil {
			return err
		}
		if entry == "" {
			continue // the images/ directory itself
		}
		if _, dup := files[entry]; dup || (entry == BuildFile && buildJSON != nil) {
			return fmt.Errorf("%s appears twice: %w", entry, ErrInvalid)
		}
		total += hdr.Size
		if total > limits.MaxBytes {
			return fmt.Errorf("archive unpacks to more than %d bytes: %w", limits.MaxBytes, ErrInvalid)
		}
		if entry == BuildFile {
			if hdr.Size > maxBuildJSON {
				return fmt.Errorf("%s is larger than %d bytes: %w", BuildFile, maxBuildJSON, ErrInvalid)
			}
			if buildJSON, err = io.ReadAll(io.LimitReader(tr, maxBuildJSON+1)); err != nil {
				return fmt.Errorf("reading %s: %v: %w", BuildFile, err, ErrInvalid)
			}
			continue
		}
		if len(files) >= limits.MaxImages {
			return fmt.Errorf("archive holds more than %d images: %w", limits.MaxImages, ErrInvalid)
		}
		path := filepath.Join(a.dir, strings.TrimPrefix(entry, ImageDir))
		if err := copyFile(path, tr, hdr.Size); err != nil {
			return fmt.Errorf("unpacking %s: %w", entry, err)
		}
		files[entry] = path
	}
	if buildJSON == nil {
		return fmt.Errorf("%s is missing: %w", BuildFile, ErrInvalid)
	}
	if err := json.Unmarshal(buildJSON, &a.Build); err != nil {
		return fmt.Errorf("%s: %v: %w", BuildFile, err, ErrInvalid)
	}
	if len(files) == 0 {
		return fmt.Errorf("archive holds no images: %w", ErrInvalid)
	}
	for entry, path := range files {
		service := strings.TrimSuffix(strings.TrimPrefix(entry, ImageDir), ".tar")
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

// checkEntry accepts build.json and images/{service}.tar as regular files and the
// images/ directory (returned as ""); anything else is refused, naming it.
func checkEntry(hdr *tar.Header) (string, error) {
	n := hdr.Name
	refuse := func(why string) (string, error) {
		return "", fmt.Errorf("entry %q: %s: %w", n, why, ErrInvalid)
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
			return "", nil
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
		return n, nil
	}
	rest, ok := strings.CutPrefix(n, ImageDir)
	service, isTar := strings.CutSuffix(rest, ".tar")
	if !ok || !isTar {
		return refuse("expected build.json or images/{service}.tar")
	}
	if !serviceName.MatchString(service) {
		return refuse("service names are lowercase letters, digits and dashes")
	}
	return n, nil
}

// copyFile writes exactly size bytes of r to a new file at path; a short or
// broken archive is ErrInvalid, a failing disk is not.
func copyFile(path string, r io.Reader, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	src := &readErrors{r: io.LimitReader(r, size)}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case src.err != nil:
		return fmt.Errorf("%v: %w", src.err, ErrInvalid)
	case err != nil:
		return err
	case n != size:
		return fmt.Errorf("short entry: %d of %d bytes: %w", n, size, ErrInvalid)
	}
	return nil
}

// readErrors remembers the error its reader returned, to tell archive faults from disk faults.
type readErrors struct {
	r   io.Reader
	err error
}

func (e *readErrors) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
