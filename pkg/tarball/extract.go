// Package tarball extracts untrusted source archives without writing outside
// the target directory, and creates them from a directory.
package tarball

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ErrUnsafe marks an archive entry refused because it could escape or harm the host.
var ErrUnsafe = errors.New("unsafe archive entry")

// ErrTooLarge marks an archive over its size or entry limits.
var ErrTooLarge = errors.New("archive too large")

// Limits bound what an archive may hold; zero fields take the defaults.
type Limits struct {
	// MaxBytes is the total size of the extracted files.
	MaxBytes int64
	// MaxEntries is the number of entries, directories included.
	MaxEntries int
}

// DefaultLimits are generous for source code, fatal for archive bombs.
var DefaultLimits = Limits{MaxBytes: 4 << 30, MaxEntries: 500_000}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	return l
}

// Extract unpacks a tar archive, gzipped or not, into dir (which must exist).
// Refused: absolute names and names (or hard link targets) holding any ".."
// element, even one that stays inside like "a/../b"; symlinks whose target
// leaves dir; devices; archives over the limits. Every write goes through an
// os.Root on dir.
func Extract(r io.Reader, dir string, limits Limits) error {
	limits = limits.orDefault()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening extraction directory: %w", err)
	}
	defer root.Close()

	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	tr := tar.NewReader(src)
	var total int64
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if entries >= limits.MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrTooLarge, limits.MaxEntries)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		if err := extractEntry(root, tr, hdr, name, limits.MaxBytes, &total); err != nil {
			return err
		}
	}
}

// cleanName refuses an empty, absolute or NUL-holding name and any name with a
// ".." element (split on / and \), and returns it relative and slash-cleaned.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrUnsafe)
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: %q: NUL in name", ErrUnsafe, name)
	}
	if strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("%w: %q: absolute path", ErrUnsafe, name)
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", fmt.Errorf("%w: %q: path traversal (..)", ErrUnsafe, name)
		}
	}
	return path.Clean(name), nil
}

// linkInside reports whether a link at name pointing to target stays inside the root.
func linkInside(name, target string) bool {
	if target == "" || path.IsAbs(target) || strings.HasPrefix(target, `\`) {
		return false
	}
	resolved := path.Clean(path.Join(path.Dir(name), target))
	return resolved != ".." && !strings.HasPrefix(resolved, "../")
}

func extractEntry(root *os.Root, tr *tar.Reader, hdr *tar.Header, name string, maxBytes int64, total *int64) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", name, err)
		}
		return root.Chmod(name, mode|0o700)
	case tar.TypeReg, tar.TypeGNUSparse: // tar.Reader reports old TypeRegA entries as TypeReg
		if hdr.Size < 0 || *total+hdr.Size > maxBytes {
			return fmt.Errorf("%w: %q would bring the extracted size over %d bytes", ErrTooLarge, hdr.Name, maxBytes)
		}
		if err := replaceable(root, name); err != nil {
			return err
		}
		f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o600)
		if err != nil {
			return fmt.Errorf("creating %s: %w", name, err)
		}
		n, err := io.Copy(f, io.LimitReader(tr, maxBytes-*total+1))
		*total += n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if *total > maxBytes {
			return fmt.Errorf("%w: over %d bytes", ErrTooLarge, maxBytes)
		}
		if err := root.Chmod(name, mode); err != nil {
			return fmt.Errorf("chmod %s: %w", name, err)
		}
		if !hdr.ModTime.IsZero() {
			_ = root.Chtimes(name, hdr.ModTime, hdr.ModTime)
		}
		return nil
	case tar.TypeSymlink:
		if !linkInside(name, hdr.Linkname) {
			return fmt.Errorf("%w: symlink %q -> %q leaves the extraction directory", ErrUnsafe, hdr.Name, hdr.Linkname)
		}
		if err := replaceable(root, name); err != nil {
			return err
		}
		if err := root.Symlink(hdr.Linkname, name); err != nil {
			return fmt.Errorf("symlink %s: %w", name, err)
		}
		return nil
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("%w: hard link %q -> %q leaves the extraction directory", ErrUnsafe, hdr.Name, hdr.Linkname)
		}
		info, err := root.Lstat(target)
		if err != nil || !info.Mode().IsRegular() {
			return fmt.Errorf("%w: hard link %q -> %q: target is not a file extracted before it", ErrUnsafe, hdr.Name, hdr.Linkname)
		}
		if err := replaceable(root, name); err != nil {
			return err
		}
		if err := root.Link(target, name); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		return nil
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: %q: device or fifo entries are not allowed", ErrUnsafe, hdr.Name)
	default:
		return fmt.Errorf("%w: %q: unsupported entry type %q", ErrUnsafe, hdr.Name, hdr.Typeflag)
	}
}

// replaceable removes an earlier non-directory entry of the same name, so a
// later entry replaces it as tar does, and refuses to replace a directory.
func replaceable(root *os.Root, name string) error {
	info, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", name, err)
	}
	if info.IsDir() {
		return fmt.Errorf("%w: %q replaces a directory", ErrUnsafe, name)
	}
	return root.Remove(name)
}
