package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
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
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		got, err := os.ReadFile(filepath.Join(out, "src/link"))
		if err != nil || string(got) != "echo hi\n" {
			t.Errorf("symlink read %q, %v", got, err)
		}
		if got, _ := os.ReadFile(filepath.Join(out, "Dockerfile")); string(got) != "FROM debian:bookworm-slim\n" {
			t.Errorf("later entry did not replace the earlier one: %q", got)
		}
		if got, _ := os.ReadFile(filepath.Join(out, "src/hard")); string(got) != "FROM busybox\n" {
			t.Errorf("hard link read %q", got)
		}
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
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
			assertNothingOutside(t, parent, out)
		})
	}
}

func TestExtractLimits(t *testing.T) {
	big := archive(t, true, entry{name: "a", body: strings.Repeat("x", 600)}, entry{name: "b", body: strings.Repeat("y", 600)})
	if _, _, err := extractIn(t, big, Limits{MaxBytes: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxBytes: err = %v", err)
	}
	if _, _, err := extractIn(t, big, Limits{MaxBytes: 1200}); err != nil {
		t.Errorf("at MaxBytes: %v", err)
	}
	many := archive(t, false, entry{name: "a"}, entry{name: "b"}, entry{name: "c"})
	if _, _, err := extractIn(t, many, Limits{MaxEntries: 2}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxEntries: err = %v", err)
	}
	if _, _, err := extractIn(t, []byte("not a tarball at all, just text padding it out to a block"), Limits{}); err == nil {
		t.Error("garbage extracted without an error")
	}
}

func TestCreateRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "a/b"), 0o755)
	os.WriteFile(filepath.Join(src, "a/b/f.txt"), []byte("hello"), 0o640)
	os.WriteFile(filepath.Join(src, "skip.me"), []byte("no"), 0o644)
	os.Symlink("b/f.txt", filepath.Join(src, "a/l"))
	var buf bytes.Buffer
	if err := Create(src, &buf, func(rel string, _ os.DirEntry) bool { return rel == "skip.me" }); err != nil {
		t.Fatal(err)
	}
	out, _, err := extractIn(t, buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "a/l")); string(got) != "hello" {
		t.Errorf("round trip read %q", got)
	}
	if info, err := os.Stat(filepath.Join(out, "a/b/f.txt")); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode lost: %v %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(out, "skip.me")); !os.IsNotExist(err) {
		t.Errorf("skipped file extracted: %v", err)
	}
}

// assertNothingOutside fails when parent holds anything but out, or out holds
// a link resolving outside it.
func assertNothingOutside(t testing.TB, parent, out string) {
	t.Helper()
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if e.Name() != filepath.Base(out) {
			t.Fatalf("written outside the extraction directory: %s", e.Name())
		}
	}
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		resolved, err := filepath.EvalSymlinks(p)
		if err == nil && !strings.HasPrefix(resolved+"/", out+"/") {
			t.Fatalf("link %s resolves outside: %s", p, resolved)
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
