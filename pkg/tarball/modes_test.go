package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExtractKeepsModes: every mode bit docker's context keeps comes out as
// the archive says, a read-only directory included, filled after its entry.
func TestExtractKeepsModes(t *testing.T) {
	data := archive(t, true,
		entry{name: "suid", body: "x", mode: 0o4755},
		entry{name: "sgid", body: "x", mode: 0o2711},
		entry{name: "private", body: "x", mode: 0o600},
		entry{name: "readonly", body: "x", mode: 0o400},
		entry{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		entry{name: "ro/inner/", typ: tar.TypeDir, mode: 0o700},
		entry{name: "ro/inner/f", body: "in a read-only directory", mode: 0o444},
		entry{name: "ro/g", body: "after the directory entry", mode: 0o644},
		entry{name: "setgid-dir/", typ: tar.TypeDir, mode: 0o2775},
	)
	out, err := extractIn(t, data, Limits{})
	require.NoError(t, err)
	for name, want := range map[string]fs.FileMode{
		"suid":       0o755 | fs.ModeSetuid,
		"sgid":       0o711 | fs.ModeSetgid,
		"private":    0o600,
		"readonly":   0o400,
		"tmp":        fs.ModeDir | 0o777 | fs.ModeSticky,
		"ro":         fs.ModeDir | 0o555,
		"ro/inner":   fs.ModeDir | 0o700,
		"ro/inner/f": 0o444,
		"ro/g":       0o644,
		"setgid-dir": fs.ModeDir | 0o775 | fs.ModeSetgid,
	} {
		info, err := os.Lstat(filepath.Join(out, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, want.String(), info.Mode().String(), name)
		}
	}
	got, err := os.ReadFile(filepath.Join(out, "ro/inner/f"))
	require.NoError(t, err)
	assert.Equal(t, "in a read-only directory", string(got))
}

// TestExtractKeepsLinks: symlinks keep any target verbatim, absolute or
// climbing out; hard links share the inode of the file before them.
func TestExtractKeepsLinks(t *testing.T) {
	data := archive(t, false,
		entry{name: "abs", link: "/etc/passwd", typ: tar.TypeSymlink},
		entry{name: "etc", link: "/etc", typ: tar.TypeSymlink},
		entry{name: "up", link: "..", typ: tar.TypeSymlink},
		entry{name: "a/b/deep", link: "../../../x", typ: tar.TypeSymlink},
		entry{name: "a/rel", link: "b/deep", typ: tar.TypeSymlink},
		entry{name: "bin/tool", body: "#!/bin/sh\n", mode: 0o4755},
		entry{name: "bin/alias", link: "bin/tool", typ: tar.TypeLink},
		entry{name: "other/alias", link: "bin/alias", typ: tar.TypeLink},
	)
	b := newBox(t)
	require.NoError(t, b.extract(data, Limits{}))
	for name, want := range map[string]string{"abs": "/etc/passwd", "etc": "/etc", "up": "..", "a/b/deep": "../../../x", "a/rel": "b/deep"} {
		got, err := os.Readlink(filepath.Join(b.out, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, want, got, name)
		}
	}
	tool, err := os.Stat(filepath.Join(b.out, "bin/tool"))
	require.NoError(t, err)
	for _, name := range []string{"bin/alias", "other/alias"} {
		info, err := os.Lstat(filepath.Join(b.out, name))
		if assert.NoError(t, err, name) {
			assert.True(t, os.SameFile(tool, info), "%s is not a hard link to bin/tool", name)
			assert.Equal(t, fs.ModeSetuid|0o755, info.Mode(), name)
		}
	}
	b.assertNothingOutside(t)
}

// TestExtractReplacesLinks: a later entry of a link's name replaces the link
// and never writes through it.
func TestExtractReplacesLinks(t *testing.T) {
	b := newBox(t)
	keep := filepath.Join(b.victim, "keep.txt")
	data := archive(t, false,
		entry{name: "f", link: keep, typ: tar.TypeSymlink},
		entry{name: "f", body: "mine"},
		entry{name: "d", link: b.victim, typ: tar.TypeSymlink},
		entry{name: "d/", typ: tar.TypeDir, mode: 0o555},
		entry{name: "d/x", body: "in the new directory"},
		entry{name: "orig", body: "first"},
		entry{name: "h", link: "orig", typ: tar.TypeLink},
		entry{name: "h", body: "second"},
		entry{name: "s", link: "orig", typ: tar.TypeSymlink},
		entry{name: "s", link: "f", typ: tar.TypeLink},
	)
	require.NoError(t, b.extract(data, Limits{}))
	b.assertNothingOutside(t)
	for name, want := range map[string]string{"f": "mine", "d/x": "in the new directory", "orig": "first", "h": "second", "s": "mine"} {
		got, err := os.ReadFile(filepath.Join(b.out, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, want, string(got), name)
		}
	}
	info, err := os.Lstat(filepath.Join(b.out, "d"))
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|0o555, info.Mode(), "d: a directory, no longer the link")
}

// TestCreateKeepsModesAndLinks: Create writes what docker's context holds
// (modes, hard links as link entries, symlink targets verbatim, owners 0),
// and Extract gives it back.
func TestCreateKeepsModesAndLinks(t *testing.T) {
	src := t.TempDir()
	t.Cleanup(func() { require.NoError(t, RemoveAll(src)) })
	mk := func(name, body string, mode fs.FileMode) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(body), 0o644))
		require.NoError(t, os.Chmod(filepath.Join(src, name), mode))
	}
	mk("bin/suid", "s", 0o4755|fs.ModeSetuid)
	mk("bin/sgid", "g", 0o755|fs.ModeSetgid)
	mk("data/a", "same", 0o640)
	require.NoError(t, os.Link(filepath.Join(src, "data/a"), filepath.Join(src, "data/b")))
	require.NoError(t, os.Link(filepath.Join(src, "data/a"), filepath.Join(src, "skipped")))
	require.NoError(t, os.Symlink("/usr/bin/env", filepath.Join(src, "env")))
	require.NoError(t, os.Symlink("../../outside", filepath.Join(src, "bin/up")))
	require.NoError(t, os.Mkdir(filepath.Join(src, "tmp"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(src, "tmp"), 0o777|fs.ModeSticky))
	mk("ro/f", "r", 0o444)
	require.NoError(t, os.Chmod(filepath.Join(src, "ro"), 0o555))

	var buf bytes.Buffer
	require.NoError(t, Create(src, &buf, func(rel string, _ fs.DirEntry) bool { return rel == "data/a" }))
	hdrs := headers(t, buf.Bytes())
	for name, want := range map[string]tar.Header{
		"bin/suid": {Typeflag: tar.TypeReg, Mode: 0o4755},
		"bin/sgid": {Typeflag: tar.TypeReg, Mode: 0o2755},
		"data/b":   {Typeflag: tar.TypeReg, Mode: 0o640},
		"skipped":  {Typeflag: tar.TypeLink, Mode: 0o640, Linkname: "data/b"},
		"env":      {Typeflag: tar.TypeSymlink, Mode: 0o777, Linkname: "/usr/bin/env"},
		"bin/up":   {Typeflag: tar.TypeSymlink, Mode: 0o777, Linkname: "../../outside"},
		"tmp/":     {Typeflag: tar.TypeDir, Mode: 0o1777},
		"ro/":      {Typeflag: tar.TypeDir, Mode: 0o555},
	} {
		got, ok := hdrs[name]
		if !assert.True(t, ok, "%s not in the archive", name) {
			continue
		}
		assert.Equal(t, []any{want.Typeflag, want.Mode, want.Linkname, 0, 0}, []any{got.Typeflag, got.Mode, got.Linkname, got.Uid, got.Gid}, name)
	}
	assert.NotContains(t, hdrs, "data/a", "skipped")

	out, err := extractIn(t, buf.Bytes(), Limits{})
	require.NoError(t, err)
	b, err := os.Stat(filepath.Join(out, "data/b"))
	require.NoError(t, err)
	s, err := os.Stat(filepath.Join(out, "skipped"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(b, s), "the hard-link pair came out as two files")
	for name, want := range map[string]fs.FileMode{"bin/suid": 0o755 | fs.ModeSetuid, "bin/sgid": 0o755 | fs.ModeSetgid, "tmp": fs.ModeDir | fs.ModeSticky | 0o777, "ro": fs.ModeDir | 0o555, "ro/f": 0o444} {
		info, err := os.Lstat(filepath.Join(out, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, want.String(), info.Mode().String(), name)
		}
	}
	target, err := os.Readlink(filepath.Join(out, "env"))
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/env", target)
}

// headers reads a gzipped tar's headers by name.
func headers(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	out := map[string]*tar.Header{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out[hdr.Name] = hdr
	}
}

// TestInside: reading an extracted tree follows links only while they stay inside.
func TestInside(t *testing.T) {
	b := newBox(t)
	data := archive(t, false,
		entry{name: "convox.yml", body: "services: {}\n"},
		entry{name: "sub/Dockerfile", link: "../convox.yml", typ: tar.TypeSymlink},
		entry{name: "environ", link: "/proc/self/environ", typ: tar.TypeSymlink},
		entry{name: "up", link: "../victim/keep.txt", typ: tar.TypeSymlink},
		entry{name: "d", link: "/etc", typ: tar.TypeSymlink},
		entry{name: "chain", link: "sub/Dockerfile", typ: tar.TypeSymlink},
	)
	require.NoError(t, b.extract(data, Limits{}))
	for name, want := range map[string]string{"convox.yml": "convox.yml", "sub/Dockerfile": "convox.yml", "chain": "convox.yml"} {
		got, err := Inside(b.out, filepath.Join(b.out, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, filepath.Join(b.out, want), got, name)
		}
	}
	for _, name := range []string{"environ", "up", "d/passwd"} {
		_, err := Inside(b.out, filepath.Join(b.out, name))
		assert.ErrorIs(t, err, ErrUnsafe, name)
	}
	_, err := Inside(b.out, filepath.Join(b.out, "missing"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
