package fargatecheck

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// context is a build context with a file, a directory, a symlinked file, a
// symlinked directory and two hard-linked files.
func context(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "src", "sub"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "links"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app.txt"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "sub", "f"), []byte("f"), 0o644))
	require.NoError(t, os.Symlink("app.txt", filepath.Join(dir, "link.txt")))
	require.NoError(t, os.Symlink("src", filepath.Join(dir, "linkdir")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "links", "one"), []byte("1"), 0o644))
	require.NoError(t, os.Link(filepath.Join(dir, "links", "one"), filepath.Join(dir, "links", "two")))
	return dir
}

type found struct {
	Kind Kind
	Line int
}

func check(t *testing.T, ctx, df, target string) []found {
	t.Helper()
	f, err := dockerfile.Parse([]byte(df))
	require.NoError(t, err)
	var out []found
	for _, x := range Check(Input{File: f, Dockerfile: "Dockerfile", Context: ctx, Target: target}).Findings {
		if x.Severity != Rewritten {
			assert.Equal(t, x.Kind.Rule().Severity, x.Severity)
		}
		out = append(out, found{x.Kind, x.Line})
	}
	return out
}

func TestCheck(t *testing.T) {
	ctx := context(t)
	cases := []struct {
		name   string
		df     string
		target string
		want   []found
	}{
		{"a plain Dockerfile: nothing", "FROM busybox\nWORKDIR /app\nCOPY app.txt src/ ./\nRUN true\nCMD [\"sh\"]\n", "", nil},
		{"RUN --mount of every type", "FROM busybox\nRUN --mount=type=cache,target=/c true\nRUN \\\n  --mount=type=secret,id=s true\nRUN --mount=target=/src make\n", "",
			[]found{{RunMount, 2}, {RunMount, 3}, {RunMount, 5}}},
		{"heredocs on RUN, COPY and ADD", "FROM busybox\nRUN <<EOF\necho\nEOF\nCOPY <<EOF /f\nx\nEOF\nADD <<EOF /g\ny\nEOF\n", "",
			[]found{{Heredoc, 2}, {Heredoc, 5}, {Heredoc, 8}}},
		{"a << that is not a heredoc", "FROM busybox\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\n", "", nil},
		{"COPY --from of the root", "FROM busybox AS b\nFROM scratch\nWORKDIR /\nCOPY --from=b / /\nCOPY --from=b /. /x\n", "",
			[]found{{CopyRoot, 4}, {SetuidBits, 4}, {HardLinks, 4}, {CopyRoot, 5}, {SetuidBits, 5}, {HardLinks, 5}}},
		{"numeric --from", "FROM busybox\nRUN true\nFROM busybox\nCOPY --from=0 /out /out\n", "", []found{{NumericFrom, 4}}},
		{"a symlinked source, a source through a symlinked directory, a glob matching a link", "FROM busybox\nCOPY link.txt /a\nCOPY linkdir/sub/f /b\nCOPY link* /c/\nCOPY [\"app.txt\", \"/d\"]\n", "",
			[]found{{SymlinkSource, 2}, {SymlinkSource, 3}, {SymlinkSource, 4}}},
		{"--chown of a directory; not of a file", "FROM busybox\nCOPY --chown=1:1 src /src\nCOPY --chown=1:1 app.txt /a\nADD --chown=1 . /all\n", "",
			[]found{{ChownDirMode, 2}, {ChownDirMode, 4}, {HardLinks, 4}}},
		{"hard links in the context, both copied", "FROM busybox\nCOPY links/ /l/\nCOPY links/one /one\nCOPY links/one links/two /both/\n", "",
			[]found{{HardLinks, 2}, {HardLinks, 4}}},
		{"a stage whose USER is not root", "FROM busybox AS b\nUSER 1000\nRUN touch /f\nFROM b AS c\nFROM busybox\nCOPY --from=c /f /f\nCOPY --chown=0 --from=c /f /g\n", "",
			[]found{{StageUserOwner, 6}, {ChownDirMode, 7}}},
		{"a stage whose USER is root again", "FROM busybox AS b\nUSER 1000\nUSER root:root\nFROM busybox\nCOPY --from=b /f /f\n", "", nil},
		{"setuid bits and hard links made by the stage", "FROM busybox AS b\nRUN cp /bin/busybox /x && chmod u+s /x && ln /x /y\nRUN ln -sf /x /z\nFROM busybox AS c\nCOPY --chmod=4755 app.txt /s\nFROM busybox\nCOPY --from=b /x /x\nCOPY --from=c /s /s\n", "",
			[]found{{SetuidBits, 7}, {HardLinks, 7}, {SetuidBits, 8}}},
		{"only symbolic links made: no hard-link warning", "FROM busybox AS b\nRUN ln -s /a /b && ln --symbolic /c /d\nFROM busybox\nCOPY --from=b /b /b\n", "", nil},
		{"COPY --from of an image", "FROM busybox\nCOPY --from=nginx:1 /etc/nginx /etc/nginx\nCOPY --from=nginx:1 /usr/sbin/nginx /n\n", "",
			[]found{{ImageSymlink, 2}, {ImageSymlink, 3}, {SetuidBits, 3}, {HardLinks, 3}}},
		{"scratch final stage without WORKDIR", "FROM busybox AS b\nFROM scratch AS s\nCOPY --from=b /bin/busybox /busybox\nFROM s\n", "",
			[]found{{SetuidBits, 3}, {HardLinks, 3}, {ScratchWorkdir, 4}}},
		{"scratch through a global ARG", "ARG BASE=scratch\nFROM ${BASE}\nCOPY app.txt /\n", "", []found{{ScratchWorkdir, 2}}},
		{"unused stages are not checked", "FROM busybox AS development\nRUN --mount=type=cache,target=/c true\nFROM busybox\nRUN true\n", "", nil},
		{"the target's stages are", "FROM busybox AS development\nRUN --mount=type=cache,target=/c true\nFROM busybox\nRUN true\n", "development",
			[]found{{RunMount, 2}}},
		{"escape directive and tabs", "# escape=`\nFROM\tbusybox\nRUN\t`\n  --mount=type=cache,target=/c true\nCOPY\tlink.txt /x\n", "",
			[]found{{RunMount, 3}, {SymlinkSource, 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, check(t, ctx, tc.df, tc.target))
		})
	}
}

// TestNumericFromRewrite: a named stage's number is given to kaniko as its
// name, with every other byte as written; an unnamed stage's is refused.
func TestNumericFromRewrite(t *testing.T) {
	src := "FROM busybox AS Builder\nRUN true\nFROM busybox\nCOPY \\\n  --from=0 /out /out\nCOPY --from=builder /x /x\nCOPY --from=0 /y /y\n"
	f, err := dockerfile.Parse([]byte(src))
	require.NoError(t, err)
	res := Check(Input{File: f, Dockerfile: "Dockerfile", Context: t.TempDir()})
	require.NoError(t, res.Err())
	require.Len(t, res.Rewrites(), 2)
	assert.Equal(t, 4, res.Rewrites()[0].Line)
	assert.Equal(t, "Dockerfile:4: COPY --from=0 (given to kaniko as --from=builder): "+NumericFrom.Rule().Reason, res.Rewrites()[0].String())
	assert.Equal(t, "FROM busybox AS Builder\nRUN true\nFROM busybox\nCOPY \\\n  --from=builder /out /out\nCOPY --from=builder /x /x\nCOPY --from=builder /y /y\n", string(res.Dockerfile))

	unnamed, err := dockerfile.Parse([]byte("FROM busybox\nFROM busybox\nCOPY --from=0 /out /out\n"))
	require.NoError(t, err)
	res = Check(Input{File: unnamed, Dockerfile: "Dockerfile", Context: t.TempDir()})
	assert.Error(t, res.Err())
	assert.Nil(t, res.Dockerfile)
	quoted, err := dockerfile.Parse([]byte("FROM busybox AS b\nFROM busybox\nCOPY --from=\"0\" /out /out\n"))
	require.NoError(t, err)
	res = Check(Input{File: quoted, Dockerfile: "Dockerfile", Context: t.TempDir()})
	assert.Error(t, res.Err(), "a rewrite that is not exact is refused")
}

func TestRefusedError(t *testing.T) {
	f, err := dockerfile.Parse([]byte("FROM busybox\n\nRUN --mount=type=cache,target=/c true\nCOPY --chown=1 --from=nginx /a /b\n"))
	require.NoError(t, err)
	res := Check(Input{File: f, Dockerfile: "api/Dockerfile", Context: t.TempDir()})
	require.Len(t, res.Refusals(), 1)
	assert.Len(t, res.Warnings(), 2)
	err = res.Err()
	var refused *RefusedError
	require.True(t, errors.As(err, &refused))
	assert.Equal(t, RunMount, refused.Refusals[0].Kind)
	assert.Contains(t, err.Error(), "api/Dockerfile:3: RUN --mount=type=cache,target=/c: kaniko ignores --mount")
	assert.Contains(t, err.Error(), "convox rack params set BuildMethod=ec2")
	assert.Equal(t, "api/Dockerfile:4: COPY --chown=1 --from=nginx: kaniko gives the copied directory mode 0700", res.Warnings()[0].String())

	ok, err := dockerfile.Parse([]byte("FROM busybox\nRUN true\n"))
	require.NoError(t, err)
	assert.NoError(t, Check(Input{File: ok, Dockerfile: "Dockerfile", Context: t.TempDir()}).Err())
}

func TestRulesAreComplete(t *testing.T) {
	seen := map[Kind]bool{}
	for _, r := range Rules {
		assert.False(t, seen[r.Kind], "duplicate %s", r.Kind)
		seen[r.Kind] = true
		assert.NotEmpty(t, r.Reason)
		assert.NotEmpty(t, r.Construct)
	}
	for _, k := range []Kind{RunMount, Heredoc, CopyRoot, SymlinkSource, NumericFrom, SetuidBits, ChownDirMode, HardLinks, StageUserOwner, ImageSymlink, ScratchWorkdir} {
		assert.True(t, seen[k], "no rule for %s", k)
	}
}
