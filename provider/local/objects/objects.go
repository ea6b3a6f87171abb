// Package objects stores app objects (uploaded sources, build logs) as files
// under one directory, refusing any key that could name a path outside it.
package objects

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/structs"
)

// MaxKey bounds the length of an object key.
const MaxKey = 512

// Store is a directory of objects, one subdirectory per app.
type Store struct {
	dir string
}

// New returns a store rooted at dir, creating it.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating object dir: %w", err)
	}
	return &Store{dir: dir}, nil
}

// CheckKey refuses keys that are empty, too long, absolute, hold "." or ".."
// segments, empty segments, or characters outside [A-Za-z0-9._-/].
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKey {
		return fmt.Errorf("object key must have 1 to %d characters: %w", MaxKey, structs.ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("object key %q has an empty, . or .. segment: %w", key, structs.ErrInvalid)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return fmt.Errorf("object key %q: only letters, digits, '.', '-', '_' and '/' are allowed: %w", key, structs.ErrInvalid)
			}
		}
	}
	return nil
}

// checkApp refuses app names that are not one plain path segment.
func checkApp(app string) error {
	if app == "" || strings.ContainsAny(app, "/\\\x00") || app == "." || app == ".." {
		return fmt.Errorf("app name %q: %w", app, structs.ErrInvalid)
	}
	return nil
}

// path maps app and key to a file inside the store after validating both.
func (s *Store) path(app, key string) (string, error) {
	if err := checkApp(app); err != nil {
		return "", err
	}
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, app, filepath.FromSlash(key)), nil
}

// Store writes r to app/key atomically (a temp file renamed into place) and
// returns its object:// URL.
func (s *Store) Store(app, key string, r io.Reader) (*structs.Object, error) {
	path, err := s.path(app, key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("storing object %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("storing object %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("storing object %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("storing object %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("storing object %s: %w", key, err)
	}
	return &structs.Object{Url: URL(app, key)}, nil
}

// URL is the object:// address of app/key.
func URL(app, key string) string {
	return fmt.Sprintf("object://%s/%s", app, key)
}

// ParseURL splits an object://app/key URL into app and key.
func ParseURL(u string) (app, key string, err error) {
	rest, ok := strings.CutPrefix(u, "object://")
	if !ok {
		return "", "", fmt.Errorf("url %q is not object://app/key: %w", u, structs.ErrInvalid)
	}
	app, key, ok = strings.Cut(rest, "/")
	if !ok {
		return "", "", fmt.Errorf("url %q has no key: %w", u, structs.ErrInvalid)
	}
	if err := checkApp(app); err != nil {
		return "", "", err
	}
	return app, key, CheckKey(key)
}

// Fetch opens app/key.
func (s *Store) Fetch(app, key string) (io.ReadCloser, error) {
	path, err := s.path(app, key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no such object: %s: %w", key, structs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching object %s: %w", key, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("no such object: %s: %w", key, structs.ErrNotFound)
	}
	return f, nil
}

// Exists reports whether app/key is stored.
func (s *Store) Exists(app, key string) (bool, error) {
	path, err := s.path(app, key)
	if err != nil {
		return false, err
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking object %s: %w", key, err)
	}
	return info.Mode().IsRegular(), nil
}

// Delete removes app/key.
func (s *Store) Delete(app, key string) error {
	path, err := s.path(app, key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no such object: %s: %w", key, structs.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("deleting object %s: %w", key, err)
	}
	return nil
}

// DeleteApp removes every object of app.
func (s *Store) DeleteApp(app string) error {
	if err := checkApp(app); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(s.dir, app))
}
