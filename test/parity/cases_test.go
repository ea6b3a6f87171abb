package parity

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// kind is what a case expects of one build method.
type kind int

const (
	// identical: the rack's image equals the reference (and, on fargate,
	// plain kaniko's equals docker build's too).
	identical kind = iota
	// documented: plain kaniko differs from docker build only by the listed
	// Differences (and shows each of them); the rack's fargate image differs
	// from docker build's only where plain kaniko's does, the same way.
	documented
	// refused: the rack refuses the build before any work, naming the
	// Dockerfile, the line and the construct, and suggesting BuildMethod=ec2.
	refused
	// fails: the build fails everywhere (docker build, plain kaniko, the rack).
	fails
)

// expect is a case's expectation for one method.
type expect struct {
	kind kind
	// diffs are the documented differences a documented case shows.
	diffs []string
	// line is the Dockerfile line a refusal names, words the construct
	// (any one of them, case-insensitive).
	line  int
	words []string
	// orIdentical accepts, instead of the refusal, an image equal to docker build's.
	orIdentical bool
	// late lets the refusal come after kaniko started: whether a COPY
	// source is a symlink is known only once the stage it copies from is built.
	late bool
}

// parityCase is one directory of cases/: its Dockerfile and context, what
// the test does to the context beyond what git holds (modes, links, empty
// directories, big files), the file it changes for the second build, and
// what each method must show.
type parityCase struct {
	name string
	// change is the file (relative to the context) a line is appended to
	// between the cold build and the rebuild: one only a builder stage reads,
	// or the main source of a one-stage Dockerfile. Empty for cases that fail.
	change  string
	setup   func(t *testing.T, dir string)
	ec2     expect
	fargate expect
}

func doc(ids ...string) expect { return expect{kind: documented, diffs: ids} }
func refuse(line int, words ...string) expect {
	return expect{kind: refused, line: line, words: words}
}

// cases is the corpus. Each directory under cases/ is listed here once.
var cases = []parityCase{
	// what the fargate split got wrong
	{name: "deleted-recreated", change: "src/a"},
	{name: "copy-deleted-path", ec2: expect{kind: fails}, fargate: expect{kind: fails}},
	{name: "dir-to-symlink", change: "src/f"},
	{name: "multiline-label-env", change: "src.txt", fargate: doc("run-mountpoints")},
	{name: "copy-from-zero", change: "src.txt", fargate: expect{kind: refused, line: 5, words: []string{"--from=0"}, orIdentical: true}},
	{name: "tab-after-copy", change: "src.txt"},
	{name: "nested-paths", change: "src/f"},
	// what a faster kaniko snapshot mode would get wrong
	{name: "same-size-same-mtime", change: "src.txt", fargate: doc("run-mountpoints")},
	// where kaniko itself differs from docker build
	{name: "setuid-from-stage", change: "src.txt", fargate: doc("copy-from-drops-setuid")},
	{name: "chown-dir", change: "src/f", fargate: doc("chown-parent-owner")},
	{name: "hardlinks-stage", change: "src.txt", fargate: doc("hardlinks-not-kept")},
	{name: "user-stage", change: "src.txt", fargate: doc("copy-dir-owner", "user-uid-gid")},
	{name: "symlink-from-image", change: "src.txt", fargate: doc("symlink-source-not-followed")},
	{name: "scratch-final", change: "src.txt", fargate: doc("scratch-workdir")},
	// where kaniko fails or ignores
	{name: "run-mount", change: "src.txt", fargate: refuse(3, "--mount")},
	{name: "heredoc", change: "src.txt", fargate: refuse(3, "heredoc", "<<")},
	{name: "copy-root", change: "src.txt", fargate: refuse(5, "COPY --from=b /", "/ /", "root")},
	// The symlinks are made by a RUN, so no check can see them before the build:
	// kaniko copies the links, a documented difference.
	{name: "symlink-source", change: "src.txt", fargate: doc("symlink-source-not-followed")},
	// source packaging
	{name: "context-modes", change: "ctx/plain.txt", setup: contextModes, fargate: doc("hardlinks-not-kept")},
	{name: "context-abs-symlink", change: "ctx/plain.txt", setup: contextAbsSymlink},
	{name: "dockerfile-ignored", change: "src.txt"},
	// stage graphs
	{name: "chain-stages", change: "src.txt"},
	{name: "two-sources", change: "b.txt"},
	{name: "external-image", change: "src.txt"},
	{name: "arg-before-from", change: "src.txt"},
	{name: "stage-as-base", change: "src.txt", fargate: doc("run-mountpoints")},
	{name: "workdir-relative", change: "src.txt"},
	{name: "debian-base", change: "src.txt"},
	{name: "config-fields", change: "src.txt"},
	// paths
	{name: "dockerignore-negation", change: "keep.log"},
	{name: "empty-dirs", change: "src.txt", setup: emptyDirs},
	{name: "names-with-spaces", change: "a dir/b c.txt"},
	{name: "globs", change: "src/f1.txt"},
	{name: "trailing-slashes", change: "src.txt"},
	// A context symlink named as a COPY source is seen up front, and refused.
	{name: "symlinks-in-context", change: "src/real.txt", setup: contextSymlinks, fargate: expect{kind: refused, line: 4, words: []string{"symlink"}}},
	{name: "big-file", change: "src.txt", setup: bigFile},
}

// contextModes gives the context what git cannot hold: setuid, setgid and
// sticky bits, a 0555 directory, hard links.
func contextModes(t *testing.T, dir string) {
	ctx := filepath.Join(dir, "ctx")
	// os.FileMode has its own bits for setuid, setgid and sticky (not 04000...)
	write(t, filepath.Join(ctx, "suid"), "suid\n", os.ModeSetuid|0o755)
	write(t, filepath.Join(ctx, "sgid"), "sgid\n", os.ModeSetgid|0o755)
	require.NoError(t, os.MkdirAll(filepath.Join(ctx, "sticky"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(ctx, "sticky"), os.ModeSticky|0o777))
	require.NoError(t, os.MkdirAll(filepath.Join(ctx, "sgiddir"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(ctx, "sgiddir"), os.ModeSetgid|0o775))
	write(t, filepath.Join(ctx, "ro", "f"), "read only\n", 0o444)
	require.NoError(t, os.Chmod(filepath.Join(ctx, "ro"), 0o555))
	write(t, filepath.Join(ctx, "linked"), "linked\n", 0o644)
	require.NoError(t, os.Link(filepath.Join(ctx, "linked"), filepath.Join(ctx, "linked2")))
	for name, want := range map[string]uint32{"suid": 0o4755, "sgid": 0o2755, "sticky": 0o1777, "sgiddir": 0o2775, "ro": 0o555} {
		var st syscall.Stat_t
		require.NoError(t, syscall.Stat(filepath.Join(ctx, name), &st))
		require.Equal(t, want, st.Mode&0o7777, "mode of %s in the context", name)
	}
}

// contextAbsSymlink links to an absolute path, and to a path above the context.
func contextAbsSymlink(t *testing.T, dir string) {
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "ctx", "abs-link")))
	require.NoError(t, os.Symlink("../../outside", filepath.Join(dir, "ctx", "up-link")))
}

// emptyDirs makes empty directories, at the top and nested.
func emptyDirs(t *testing.T, dir string) {
	for _, d := range []string{"empty", "tree/empty", "tree/full/empty"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
}

// contextSymlinks links files and a directory of the context, relatively.
func contextSymlinks(t *testing.T, dir string) {
	require.NoError(t, os.Symlink("real.txt", filepath.Join(dir, "src", "link.txt")))
	require.NoError(t, os.Symlink("src", filepath.Join(dir, "srclink")))
}

// bigFile writes a 50 MB file (not committed: made at test time).
func bigFile(t *testing.T, dir string) {
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "big"), 0o755))
	f, err := os.Create(filepath.Join(dir, "big", "data.bin"))
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	for n, i := 0, 0; n < 50<<20; i++ {
		k, err := fmt.Fprintf(w, "%016x the quick brown fox jumps over the lazy dog %d\n", i*7919, i)
		require.NoError(t, err)
		n += k
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

func write(t *testing.T, path, body string, mode os.FileMode) {
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	require.NoError(t, os.Chmod(path, mode))
}
