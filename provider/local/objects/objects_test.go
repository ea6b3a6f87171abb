package objects

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convox/rack/pkg/structs"
)

func TestStoreFetchDelete(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Store("app1", "tmp/source.tgz", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := ParseURL(o.Url)
	if err != nil || app != "app1" || key != "tmp/source.tgz" {
		t.Fatalf("url %s parsed to %q %q %v", o.Url, app, key, err)
	}
	rc, err := s.Fetch(app, key)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "data" {
		t.Fatalf("fetched %q", data)
	}
	if ok, _ := s.Exists(app, key); !ok {
		t.Fatal("stored object does not exist")
	}
	if err := s.Delete(app, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(app, key); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("fetch after delete: %v", err)
	}
	if err := s.Delete(app, key); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestKeysThatEscapeAreRefused(t *testing.T) {
	root := t.TempDir()
	s, err := New(filepath.Join(root, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a\x00b", "a b", strings.Repeat("k", MaxKey+1)} {
		if _, err := s.Store("app1", key, strings.NewReader("x")); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("Store(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := s.Fetch("app1", key); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("Fetch(%q) = %v, want ErrInvalid", key, err)
		}
	}
	for _, app := range []string{"", "..", "a/b"} {
		if _, err := s.Store(app, "k", strings.NewReader("x")); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("Store app %q = %v, want ErrInvalid", app, err)
		}
	}
	if _, _, err := ParseURL("object://app1/../x"); !errors.Is(err, structs.ErrInvalid) {
		t.Errorf("ParseURL with .. = %v", err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Fatalf("something was written beside the store: %v", entries)
	}
}
