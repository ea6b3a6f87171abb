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

// extractIn extracts into parent/out and returns out and parent.
func extractIn(t *testing.T, data []byte, limits Limits) (string, string, error) {
	t.Helper()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	return out, parent, Extract(bytes.NewReader(data), out, limits)
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
		out, _, err := extractIn(t, data, Limits{})
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
		{"symlink absolute", []entry{{name: "etc", link: "/etc", typ: tar.TypeSymlink}}, ErrUnsafe, "leaves the extraction directory"},
		{"symlink up", []entry{{name: "up", link: "..", typ: tar.TypeSymlink}}, ErrUnsafe, "leaves the extraction directory"},
		{"symlink deep up", []entry{{name: "a/b/up", link: "../../../x", typ: tar.TypeSymlink}}, ErrUnsafe, "leaves the extraction directory"},
		{"symlink then write through", []entry{{name: "d", link: "../", typ: tar.TypeSymlink}, {name: "d/evil", body: "x"}}, ErrUnsafe, "leaves"},
		{"hard link outside", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}, ErrUnsafe, "hard link"},
		{"hard link up", []entry{{name: "h", link: "../secret", typ: tar.TypeLink}}, ErrUnsafe, "hard link"},
		{"char device", []entry{{name: "null", typ: tar.TypeChar}}, ErrUnsafe, "device"},
		{"block device", []entry{{name: "sda", typ: tar.TypeBlock}}, ErrUnsafe, "device"},
		{"fifo", []entry{{name: "p", typ: tar.TypeFifo}}, ErrUnsafe, "fifo"},
		{"file replaces dir", []entry{{name: "d/", typ: tar.TypeDir}, {name: "d", body: "x"}}, ErrUnsafe, "replaces a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, parent, err := extractIn(t, archive(t, true, tc.entries...), Limits{})
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			assertNothingOutside(t, parent, out)
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
			out, parent, err := extractIn(t, archive(t, false, tc.entries...), Limits{})
			if tc.refused {
				require.ErrorIs(t, err, ErrUnsafe)
				assert.ErrorContains(t, err, "..")
			} else {
				require.NoError(t, err)
			}
			assertNothingOutside(t, parent, out)
		})
	}
}

func TestExtractLimits(t *testing.T) {
	big := archive(t, true, entry{name: "a", body: strings.Repeat("x", 600)}, entry{name: "b", body: strings.Repeat("y", 600)})
	_, _, err := extractIn(t, big, Limits{MaxBytes: 1000})
	assert.ErrorIs(t, err, ErrTooLarge, "over MaxBytes")
	_, _, err = extractIn(t, big, Limits{MaxBytes: 1200})
	assert.NoError(t, err, "at MaxBytes")
	many := archive(t, false, entry{name: "a"}, entry{name: "b"}, entry{name: "c"})
	_, _, err = extractIn(t, many, Limits{MaxEntries: 2})
	assert.ErrorIs(t, err, ErrTooLarge, "over MaxEntries")
	_, _, err = extractIn(t, []byte("not a tarball at all, just text padding it out to a block"), Limits{})
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
	out, _, err := extractIn(t, buf.Bytes(), Limits{})
	require.NoError(t, err)
	got, _ := os.ReadFile(filepath.Join(out, "a/l"))
	assert.Equal(t, "hello", string(got), "round trip read")
	if info, err := os.Stat(filepath.Join(out, "a/b/f.txt")); assert.NoError(t, err, "mode lost") {
		assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "mode lost")
	}
	_, err = os.Stat(filepath.Join(out, "skip.me"))
	assert.ErrorIs(t, err, os.ErrNotExist, "skipped file extracted")
}

// assertNothingOutside fails when parent holds anything but out, or out holds
// a link resolving outside it.
func assertNothingOutside(t testing.TB, parent, out string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	for _, e := range entries {
		require.Equal(t, filepath.Base(out), e.Name(), "written outside the extraction directory")
	}
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		resolved, err := filepath.EvalSymlinks(p)
		if err == nil {
			require.True(t, strings.HasPrefix(resolved+"/", out+"/"), "link %s resolves outside: %s", p, resolved)
		}
		return nil
	})
}

// FuzzExtract feeds arbitrary archives: whatever happens, nothing lands outside.
func FuzzExtract(f *testing.F) {
	f.Add(archive(f, true, entry{name: "Dockerfile", body: "FROM busybox\n"}, entry{name: "l", link: "Dockerfile", typ: tar.TypeSymlink}))
	f.Add(archive(f, false, entry{name: "../evil", body: "x"}))
	f.Add(archive(f, false, entry{name: "d", link: "..", typ: tar.TypeSymlink}, entry{name: "d/x", body: "x"}))
	f.Add(archive(f, false, entry{name: "a/", typ: tar.TypeDir}, entry{name: "a/h", link: "a", typ: tar.TypeLink}))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		os.Mkdir(out, 0o755)
		Extract(bytes.NewReader(data), out, Limits{MaxBytes: 1 << 20, MaxEntries: 1000})
		assertNothingOutside(t, parent, out)
	})
}
