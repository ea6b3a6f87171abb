// Package tarball creates build-context archives from a directory as docker
// sends them (modes, hard links and symlinks kept), and extracts untrusted
// ones without ever writing outside the target directory or through a link.
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
	"time"
)

// ErrUnsafe marks an archive entry refused because it could escape or harm the host.
var ErrUnsafe = errors.New("unsafe archive entry")

// ErrTooLarge marks an archive over its size or entry limits.
var ErrTooLarge = errors.New("archive too large")

// maxName bounds an entry name (Linux's PATH_MAX): no build tool reads a
// longer path, and it bounds the directories one entry can create.
const maxName = 4096

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

// keptMode is what Extract keeps of an entry's mode: permissions, setuid,
// setgid and sticky, as docker's build context does. Owners are not kept: a
// COPY from the context makes files root's unless it says --chown.
const keptMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Extract unpacks a tar archive, gzipped or not, into dir (which must exist).
//
// Kept: regular files and directories with their modes (setuid, setgid,
// sticky, read-only directories: a directory's mode and time are applied once
// every entry is written), hard links to regular files extracted before them,
// and symlinks with any target, verbatim, absolute or relative.
//
// Refused (ErrUnsafe): absolute names and names (or hard link targets)
// holding any ".." element, even one that stays inside like "a/../b"; an
// entry whose path passes through a symlink or a file (nothing is ever
// written through a link); a hard link to anything but a regular file;
// devices and fifos. Archives over the limits fail with ErrTooLarge. Every
// write goes through an os.Root on dir.
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
	x := &extractor{root: root, maxBytes: limits.MaxBytes, dirs: map[string]dirMeta{}, real: map[string]bool{}}
	tr := tar.NewReader(src)
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return x.finishDirs()
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
		if err := x.entry(tr, hdr, name); err != nil {
			return err
		}
	}
}

// cleanName refuses an empty, over-long, absolute or NUL-holding name and any
// name with a ".." element (split on / and \), and returns it relative and
// slash-cleaned.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrUnsafe)
	}
	if len(name) > maxName {
		return "", fmt.Errorf("%w: %.40q...: name longer than %d bytes", ErrUnsafe, name, maxName)
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

// dirMeta is what a directory entry asks for, applied when extraction ends.
type dirMeta struct {
	mode  fs.FileMode
	mtime time.Time
}

// extractor is one extraction in progress.
type extractor struct {
	root     *os.Root
	maxBytes int64
	total    int64
	// dirs holds the mode and time of every directory entry, applied last so
	// a read-only directory can still be filled.
	dirs map[string]dirMeta
	// real holds directories already checked to be real ones (up to
	// maxKnownDirs): a directory is never removed or replaced once made.
	real map[string]bool
}

// maxKnownDirs bounds the memory of the real-directory cache.
const maxKnownDirs = 100_000

func (x *extractor) known(dir string) {
	if len(x.real) < maxKnownDirs {
		x.real[dir] = true
	}
}

func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header, name string) error {
	if err := x.parents(name, true); err != nil {
		return err
	}
	mode := hdr.FileInfo().Mode() & keptMode
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(name, mode, hdr.ModTime)
	case tar.TypeReg, tar.TypeGNUSparse: // tar.Reader reports old TypeRegA entries as TypeReg
		return x.file(tr, hdr, name, mode)
	case tar.TypeSymlink:
		if hdr.Linkname == "" || strings.ContainsRune(hdr.Linkname, 0) {
			return fmt.Errorf("%w: symlink %q: empty target or NUL in it", ErrUnsafe, hdr.Name)
		}
		if err := x.replaceable(name); err != nil {
			return err
		}
		if err := x.root.Symlink(hdr.Linkname, name); err != nil {
			return fmt.Errorf("symlink %s: %w", name, err)
		}
		return nil
	case tar.TypeLink:
		return x.link(hdr, name)
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: %q: device or fifo entries are not allowed", ErrUnsafe, hdr.Name)
	default:
		return fmt.Errorf("%w: %q: unsupported entry type %q", ErrUnsafe, hdr.Name, hdr.Typeflag)
	}
}

// dir makes name a real directory (replacing a file or symlink there, as
// tar does) and records its mode and time for the end.
func (x *extractor) dir(name string, mode fs.FileMode, mtime time.Time) error {
	info, err := x.root.Lstat(name)
	switch {
	case err == nil && info.IsDir():
	case err == nil || errors.Is(err, fs.ErrNotExist):
		if err == nil {
			if err := x.root.Remove(name); err != nil {
				return fmt.Errorf("replacing %s: %w", name, err)
			}
		}
		if err := x.root.Mkdir(name, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", name, err)
		}
	default:
		return fmt.Errorf("checking %s: %w", name, err)
	}
	x.dirs[name] = dirMeta{mode: mode, mtime: mtime}
	x.known(name)
	return nil
}

func (x *extractor) file(tr *tar.Reader, hdr *tar.Header, name string, mode fs.FileMode) error {
	if hdr.Size < 0 || x.total+hdr.Size > x.maxBytes {
		return fmt.Errorf("%w: %q would bring the extracted size over %d bytes", ErrTooLarge, hdr.Name, x.maxBytes)
	}
	if err := x.replaceable(name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(tr, x.maxBytes-x.total+1))
	x.total += n
	if err == nil {
		// on the open file: the name cannot have become anything else since
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if x.total > x.maxBytes {
		return fmt.Errorf("%w: over %d bytes", ErrTooLarge, x.maxBytes)
	}
	if !hdr.ModTime.IsZero() {
		_ = x.root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// link makes name a hard link to a regular file extracted before it, reached
// through real directories only.
func (x *extractor) link(hdr *tar.Header, name string) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("%w: hard link %q -> %q leaves the extraction directory", ErrUnsafe, hdr.Name, hdr.Linkname)
	}
	if err := x.parents(target, false); err != nil {
		return fmt.Errorf("hard link %q -> %q: %w", hdr.Name, hdr.Linkname, err)
	}
	info, err := x.root.Lstat(target)
	if err != nil || !info.Mode().IsRegular() {
		return fmt.Errorf("%w: hard link %q -> %q: target is not a regular file extracted before it", ErrUnsafe, hdr.Name, hdr.Linkname)
	}
	if target == name {
		return nil
	}
	if err := x.replaceable(name); err != nil {
		return err
	}
	if err := x.root.Link(target, name); err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return nil
}

// parents checks that every directory above name is a real directory, not
// a symlink nor a file, so nothing is written through a link; with create,
// missing ones are made.
func (x *extractor) parents(name string, create bool) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		p := name[:i]
		if x.real[p] {
			continue
		}
		info, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", p, err)
			}
		case err != nil:
			return fmt.Errorf("%w: %q: checking %s: %v", ErrUnsafe, name, p, err)
		case info.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: %q passes through the symlink %q", ErrUnsafe, name, p)
		case !info.IsDir():
			return fmt.Errorf("%w: %q: %q is not a directory", ErrUnsafe, name, p)
		}
		x.known(p)
	}
	return nil
}

// replaceable removes an earlier non-directory entry of the same name (a
// file, a link: never written through), so a later entry replaces it as tar
// does, and refuses to replace a directory.
func (x *extractor) replaceable(name string) error {
	info, err := x.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", name, err)
	}
	if info.IsDir() {
		return fmt.Errorf("%w: %q replaces a directory", ErrUnsafe, name)
	}
	return x.root.Remove(name)
}

// finishDirs applies the directory entries' modes and times, now that
// nothing more is written into them. A directory is never replaced once
// made, so each name is still the directory its entry made.
func (x *extractor) finishDirs() error {
	for name, m := range x.dirs {
		if err := x.root.Chmod(name, m.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", name, err)
		}
		if !m.mtime.IsZero() {
			_ = x.root.Chtimes(name, m.mtime, m.mtime)
		}
	}
	return nil
}
