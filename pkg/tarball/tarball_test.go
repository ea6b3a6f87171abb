package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entry is one tar header, with file content for regular files.
type entry struct {
	name, link, body string
	typ              byte
	mode             int64 // 0: 0644 for files, 0755 for directories
}

func archive(t testing.TB, gz bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := tar.NewWriter(w)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	}
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Mode: 0o644}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if e.mode != 0 {
			hdr.Mode = e.mode
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// box is an extraction directory out beside a victim directory holding one
// file, in a parent holding nothing else: what lands outside out shows.
type box struct{ parent, out, victim string }

const victimBody = "untouched\n"

func newBox(t testing.TB) box {
	t.Helper()
	parent := t.TempDir()
	b := box{parent: parent, out: filepath.Join(parent, "out"), victim: filepath.Join(parent, "victim")}
	require.NoError(t, os.Mkdir(b.out, 0o755))
	require.NoError(t, os.Mkdir(b.victim, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(b.victim, "keep.txt"), []byte(victimBody), 0o644))
	t.Cleanup(func() { require.NoError(t, RemoveAll(b.out)) })
	return b
}

func (b box) extract(data []byte, limits Limits) error {
	return Extract(bytes.NewReader(data), b.out, limits)
}

// extractIn extracts into a fresh box and returns its out directory.
func extractIn(t *testing.T, data []byte, limits Limits) (string, error) {
	t.Helper()
	b := newBox(t)
	return b.out, b.extract(data, limits)
}

func TestExtractGood(t *testing.T) {
	for _, gz := range []bool{false, true} {
		data := archive(t, gz,
			entry{name: "./", typ: tar.TypeDir},
			entry{name: "Dockerfile", body: "FROM busybox\n"},
			entry{name: "src/app/main.sh", body: "echo hi\n"},
			entry{name: "src/link", link: "app/main.sh", typ: tar.TypeSymlink},
			entry{name: "src/app/up", link: "../../Dockerfile", typ: tar.TypeSymlink},
			entry{name: "src/hard", link: "Dockerfile", typ: tar.TypeLink},
			entry{name: "Dockerfile", body: "FROM debian:bookworm-slim\n"},
		)
		out, err := extractIn(t, data, Limits{})
		require.NoError(t, err, "gz=%v", gz)
		got, err := os.ReadFile(filepath.Join(out, "src/link"))
		if assert.NoError(t, err, "symlink read") {
			assert.Equal(t, "echo hi\n", string(got), "symlink read")
		}
		got, _ = os.ReadFile(filepath.Join(out, "Dockerfile"))
		assert.Equal(t, "FROM debian:bookworm-slim\n", string(got), "later entry did not replace the earlier one")
		got, _ = os.ReadFile(filepath.Join(out, "src/hard"))
		assert.Equal(t, "FROM busybox\n", string(got), "hard link read")
	}
}

func TestExtractRefusesMalicious(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
		want    error
		msg     string
	}{
		{"traversal", []entry{{name: "../evil", body: "x"}}, ErrUnsafe, "path traversal"},
		{"nested traversal", []entry{{name: "a/b/../../../evil", body: "x"}}, ErrUnsafe, "path traversal"},
		{"absolute", []entry{{name: "/tmp/evil", body: "x"}}, ErrUnsafe, "absolute path"},
		{"windows absolute", []entry{{name: `C:\evil`, body: "x"}}, ErrUnsafe, "absolute path"},
		{"symlink then write through", []entry{{name: "d", link: "../", typ: tar.TypeSymlink}, {name: "d/evil", body: "x"}}, ErrUnsafe, "passes through the symlink"},
		{"symlink to /etc then a file under it", []entry{{name: "etc", link: "/etc", typ: tar.TypeSymlink}, {name: "etc/convox-tarball-test", body: "x"}}, ErrUnsafe, "passes through the symlink"},
		{"symlink to /etc then a directory under it", []entry{{name: "etc", link: "/etc", typ: tar.TypeSymlink}, {name: "etc/convox-tarball-test/", typ: tar.TypeDir}}, ErrUnsafe, "passes through the symlink"},
		{"symlink inside then write through", []entry{{name: "sub/", typ: tar.TypeDir}, {name: "d", link: "sub", typ: tar.TypeSymlink}, {name: "d/f", body: "x"}}, ErrUnsafe, "passes through the symlink"},
		{"file then write under it", []entry{{name: "f", body: "x"}, {name: "f/g", body: "y"}}, ErrUnsafe, "is not a directory"},
		{"hard link to a symlink", []entry{{name: "etc", link: "/etc/passwd", typ: tar.TypeSymlink}, {name: "h", link: "etc", typ: tar.TypeLink}}, ErrUnsafe, "not a regular file"},
		{"hard link through a symlink", []entry{{name: "sub/f", body: "x"}, {name: "l", link: "sub", typ: tar.TypeSymlink}, {name: "h", link: "l/f", typ: tar.TypeLink}}, ErrUnsafe, "passes through the symlink"},
		{"hard link to a directory", []entry{{name: "d/", typ: tar.TypeDir}, {name: "h", link: "d", typ: tar.TypeLink}}, ErrUnsafe, "not a regular file"},
		{"hard link to a later file", []entry{{name: "h", link: "f", typ: tar.TypeLink}, {name: "f", body: "x"}}, ErrUnsafe, "not a regular file"},
		{"hard link outside", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}, ErrUnsafe, "hard link"},
		{"empty symlink target", []entry{{name: "l", typ: tar.TypeSymlink}}, ErrUnsafe, "empty target"},
		{"over-long name", []entry{{name: strings.Repeat("a/", 3000) + "f", body: "x"}}, ErrUnsafe, "longer than"},
		{"hard link up", []entry{{name: "h", link: "../secret", typ: tar.TypeLink}}, ErrUnsafe, "hard link"},
		{"char device", []entry{{name: "null", typ: tar.TypeChar}}, ErrUnsafe, "device"},
		{"block device", []entry{{name: "sda", typ: tar.TypeBlock}}, ErrUnsafe, "device"},
		{"fifo", []entry{{name: "p", typ: tar.TypeFifo}}, ErrUnsafe, "fifo"},
		{"file replaces dir", []entry{{name: "d/", typ: tar.TypeDir}, {name: "d", body: "x"}}, ErrUnsafe, "replaces a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBox(t)
			err := b.extract(archive(t, true, tc.entries...), Limits{})
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			b.assertNothingOutside(t)
		})
	}
}

// TestExtractDotDotElements: an entry name (or hard link target) holding a ".."
// element is refused even when it would stay inside, like "a/../b"; ".." inside
// a longer element is an ordinary name, and symlink targets may climb while they
// stay inside.
func TestExtractDotDotElements(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
		refused bool
	}{
		{"a/../b", []entry{{name: "a/../b", body: "x"}}, true},
		{"a/b/../c", []entry{{name: "a/b/../c", body: "x"}}, true},
		{"trailing ..", []entry{{name: "a/..", typ: tar.TypeDir}}, true},
		{"bare ..", []entry{{name: "..", typ: tar.TypeDir}}, true},
		{"./..", []entry{{name: "./../b", body: "x"}}, true},
		{`backslash a\..\b`, []entry{{name: `a\..\b`, body: "x"}}, true},
		{"hard link a/../f", []entry{{name: "f", body: "x"}, {name: "h", link: "a/../f", typ: tar.TypeLink}}, true},
		{"a..b", []entry{{name: "a..b", body: "x"}}, false},
		{"..a/b..", []entry{{name: "..a/b..", body: "x"}}, false},
		{"...", []entry{{name: "...", body: "x"}}, false},
		{"symlink a/../f", []entry{{name: "f", body: "x"}, {name: "a/", typ: tar.TypeDir}, {name: "l", link: "a/../f", typ: tar.TypeSymlink}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBox(t)
			err := b.extract(archive(t, false, tc.entries...), Limits{})
			if tc.refused {
				require.ErrorIs(t, err, ErrUnsafe)
				assert.ErrorContains(t, err, "..")
			} else {
				require.NoError(t, err)
			}
			b.assertNothingOutside(t)
		})
	}
}

func TestExtractLimits(t *testing.T) {
	big := archive(t, true, entry{name: "a", body: strings.Repeat("x", 600)}, entry{name: "b", body: strings.Repeat("y", 600)})
	_, err := extractIn(t, big, Limits{MaxBytes: 1000})
	assert.ErrorIs(t, err, ErrTooLarge, "over MaxBytes")
	_, err = extractIn(t, big, Limits{MaxBytes: 1200})
	assert.NoError(t, err, "at MaxBytes")
	many := archive(t, false, entry{name: "a"}, entry{name: "b"}, entry{name: "c"})
	_, err = extractIn(t, many, Limits{MaxEntries: 2})
	assert.ErrorIs(t, err, ErrTooLarge, "over MaxEntries")
	_, err = extractIn(t, []byte("not a tarball at all, just text padding it out to a block"), Limits{})
	assert.Error(t, err, "garbage extracted without an error")
}

func TestCreateRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "a/b"), 0o755)
	os.WriteFile(filepath.Join(src, "a/b/f.txt"), []byte("hello"), 0o640)
	os.WriteFile(filepath.Join(src, "skip.me"), []byte("no"), 0o644)
	os.Symlink("b/f.txt", filepath.Join(src, "a/l"))
	var buf bytes.Buffer
	require.NoError(t, Create(src, &buf, func(rel string, _ os.DirEntry) bool { return rel == "skip.me" }))
	out, err := extractIn(t, buf.Bytes(), Limits{})
	require.NoError(t, err)
	got, _ := os.ReadFile(filepath.Join(out, "a/l"))
	assert.Equal(t, "hello", string(got), "round trip read")
	if info, err := os.Stat(filepath.Join(out, "a/b/f.txt")); assert.NoError(t, err, "mode lost") {
		assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "mode lost")
	}
	_, err = os.Stat(filepath.Join(out, "skip.me"))
	assert.ErrorIs(t, err, os.ErrNotExist, "skipped file extracted")
}

// assertNothingOutside fails when parent holds anything but out and the
// victim, when the victim changed, or when /etc holds what a test tried to
// write there.
func (b box) assertNothingOutside(t testing.TB) {
	t.Helper()
	entries, err := os.ReadDir(b.parent)
	require.NoError(t, err)
	for _, e := range entries {
		require.Contains(t, []string{"out", "victim"}, e.Name(), "written outside the extraction directory")
	}
	entries, err = os.ReadDir(b.victim)
	require.NoError(t, err)
	require.Len(t, entries, 1, "written into the victim directory")
	got, err := os.ReadFile(filepath.Join(b.victim, "keep.txt"))
	require.NoError(t, err)
	require.Equal(t, victimBody, string(got), "the victim file changed")
	_, err = os.Lstat("/etc/convox-tarball-test")
	require.ErrorIs(t, err, os.ErrNotExist, "written into /etc")
}

// FuzzExtract feeds arbitrary archives: whatever happens, nothing lands outside.
func FuzzExtract(f *testing.F) {
	f.Add(archive(f, true, entry{name: "Dockerfile", body: "FROM busybox\n"}, entry{name: "l", link: "Dockerfile", typ: tar.TypeSymlink}))
	f.Add(archive(f, false, entry{name: "../evil", body: "x"}))
	f.Add(archive(f, false, entry{name: "d", link: "..", typ: tar.TypeSymlink}, entry{name: "d/x", body: "x"}))
	f.Add(archive(f, false, entry{name: "a/", typ: tar.TypeDir}, entry{name: "a/h", link: "a", typ: tar.TypeLink}))
	f.Add(archive(f, false, entry{name: "etc", link: "/etc", typ: tar.TypeSymlink}, entry{name: "etc/convox-tarball-test", body: "x"}))
	f.Add(archive(f, false, entry{name: "l", link: "/etc/passwd", typ: tar.TypeSymlink}, entry{name: "h", link: "l", typ: tar.TypeLink}, entry{name: "l", body: "x"}))
	f.Add(archive(f, false, entry{name: "f", body: "x", mode: 0o4755}, entry{name: "h", link: "f", typ: tar.TypeLink}, entry{name: "d/", typ: tar.TypeDir, mode: 0o555}, entry{name: "d/x", body: "y"}))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBox(t)
		b.extract(data, Limits{MaxBytes: 1 << 20, MaxEntries: 1000})
		b.assertNothingOutside(t)
	})
}
