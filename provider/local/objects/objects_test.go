package objects

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreFetchDelete(t *testing.T) {
	s, err := New(t.TempDir())
	require.NoError(t, err)
	o, err := s.Store("app1", "tmp/source.tgz", strings.NewReader("data"))
	require.NoError(t, err)
	app, key, err := ParseURL(o.Url)
	require.NoError(t, err, "url %s parsed to %q %q %v", o.Url, app, key, err)
	require.EqualValues(t, "app1", app, "url %s parsed to %q %q %v", o.Url, app, key, err)
	require.EqualValues(t, "tmp/source.tgz", key, "url %s parsed to %q %q %v", o.Url, app, key, err)
	rc, err := s.Fetch(app, key)
	require.NoError(t, err)
	data, _ := io.ReadAll(rc)
	rc.Close()
	require.EqualValues(t, "data", string(data), "fetched %q", data)
	ok, _ := s.Exists(app, key)
	require.True(t, ok, "stored object does not exist")
	require.NoError(t, s.Delete(app, key))
	_, err = s.Fetch(app, key)
	require.ErrorIs(t, err, structs.ErrNotFound, "fetch after delete: %v", err)
	err = s.Delete(app, key)
	require.ErrorIs(t, err, structs.ErrNotFound, "second delete: %v", err)
}

func TestKeysThatEscapeAreRefused(t *testing.T) {
	root := t.TempDir()
	s, err := New(filepath.Join(root, "objects"))
	require.NoError(t, err)
	for _, key := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a\x00b", "a b", strings.Repeat("k", MaxKey+1)} {
		_, err := s.Store("app1", key, strings.NewReader("x"))
		assert.ErrorIs(t, err, structs.ErrInvalid, "Store(%q) = %v, want ErrInvalid", key, err)
		_, err = s.Fetch("app1", key)
		assert.ErrorIs(t, err, structs.ErrInvalid, "Fetch(%q) = %v, want ErrInvalid", key, err)
	}
	for _, app := range []string{"", "..", "a/b"} {
		_, err := s.Store(app, "k", strings.NewReader("x"))
		assert.ErrorIs(t, err, structs.ErrInvalid, "Store app %q = %v, want ErrInvalid", app, err)
	}
	_, _, err = ParseURL("object://app1/../x")
	assert.ErrorIs(t, err, structs.ErrInvalid, "ParseURL with .. = %v", err)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, entries, 1, "something was written beside the store: %v", entries)
}
