package dockerfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `# syntax=docker/dockerfile:1
ARG BASE=debian:bookworm-slim
ARG UNUSED
FROM --platform=linux/amd64 ${BASE} AS deps
ARG NPM_TOKEN VERSION=1
RUN echo one \
    two
FROM busybox as Development
COPY --from=deps /x /x
FROM deps
from scratch
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(sample))
	require.NoError(t, err)
	require.Len(t, f.Stages, 4)
	assert.Equal(t, '\\', f.Escape)
	require.Len(t, f.Globals, 2)
	assert.Equal(t, Range{2, 2}, f.Globals[0].Lines)

	deps := f.Stages[0]
	assert.Equal(t, "deps", deps.Name)
	assert.Equal(t, "${BASE}", deps.Base)
	assert.Equal(t, "linux/amd64", deps.Platform)
	assert.Equal(t, Range{4, 4}, deps.From.Lines)
	require.Len(t, deps.Instructions, 2)
	assert.Equal(t, "run", deps.Instructions[1].Command)
	assert.Equal(t, Range{6, 7}, deps.Instructions[1].Lines)

	dev := f.Stages[1]
	assert.Equal(t, "development", dev.Name)
	assert.Equal(t, 1, dev.Index)
	assert.Equal(t, "deps", dev.Instructions[0].CopyFrom())
	assert.Equal(t, []string{"/x"}, dev.Instructions[0].Sources())
	assert.Equal(t, "/x", dev.Instructions[0].Dest())
	assert.Equal(t, "scratch", f.Stages[3].Base)

	assert.True(t, f.HasStage("development"))
	assert.True(t, f.HasStage("Development"))
	assert.False(t, f.HasStage("production"))
	assert.Equal(t, []string{"NPM_TOKEN=x", "VERSION=2", "BASE=busybox"}, f.FilterArgs([]string{"NPM_TOKEN=x", "OTHER=y", "VERSION=2", "BASE=busybox"}))
	assert.Equal(t, []string{"debian:bookworm-slim", "busybox"}, f.Bases(nil))
	got := f.Bases([]string{"BASE=alpine:3"})
	require.NotEmpty(t, got)
	assert.Equal(t, "alpine:3", got[0])
	assert.Equal(t, 0, f.BaseStage(2), "FROM deps")
	assert.Equal(t, []int{0, 2}, f.Chain(2))
	assert.Equal(t, []int{0, 1}, f.Needed("development"))
	assert.Equal(t, []int{3}, f.Needed(""))
}

func TestParseForms(t *testing.T) {
	t.Run("tabs, continuation lines and comments inside them", func(t *testing.T) {
		f, err := Parse([]byte("FROM\tbusybox\tAS\tb\nCOPY\t--chown=1:1\ta \\\n# a comment\n  b /dst/\nRUN\techo hi\n"))
		require.NoError(t, err)
		s := f.Stages[0]
		assert.Equal(t, "b", s.Name)
		assert.Equal(t, "busybox", s.Base)
		require.Len(t, s.Instructions, 2)
		cp := s.Instructions[0]
		assert.Equal(t, Range{2, 4}, cp.Lines)
		assert.Equal(t, []string{"a", "b"}, cp.Sources())
		assert.Equal(t, "1:1", cp.Chown())
		v, ok := cp.Flag("chown")
		assert.True(t, ok)
		assert.Equal(t, "1:1", v)
	})
	t.Run("JSON forms", func(t *testing.T) {
		f, err := Parse([]byte("FROM busybox\nCOPY [\"a b.txt\", \"c\", \"/d/\"]\nCMD [\"sh\", \"-c\", \"echo\"]\n"))
		require.NoError(t, err)
		cp := f.Stages[0].Instructions[0]
		assert.True(t, cp.JSON)
		assert.Equal(t, []string{"a b.txt", "c"}, cp.Sources())
		assert.Equal(t, "/d/", cp.Dest())
		assert.True(t, f.Stages[0].Instructions[1].JSON)
	})
	t.Run("heredocs: bodies are not instructions, lines include them", func(t *testing.T) {
		f, err := Parse([]byte("FROM busybox\nRUN <<EOF\nFROM evil\nCOPY x y\nEOF\nCOPY <<A <<B /dst/\naaa\nA\nbbb\nB\nRUN true\n"))
		require.NoError(t, err)
		require.Len(t, f.Stages, 1)
		ins := f.Stages[0].Instructions
		require.Len(t, ins, 3)
		assert.Equal(t, Range{2, 5}, ins[0].Lines)
		require.Len(t, ins[0].Heredocs, 1)
		assert.Equal(t, "FROM evil\nCOPY x y\n", ins[0].Heredocs[0].Content)
		assert.Equal(t, Range{6, 10}, ins[1].Lines)
		assert.Len(t, ins[1].Heredocs, 2)
		assert.Empty(t, ins[1].Sources(), "heredoc sources are not context paths")
		assert.Equal(t, Range{11, 11}, ins[2].Lines)
	})
	t.Run("escape directive", func(t *testing.T) {
		f, err := Parse([]byte("# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY c:\\dir\\ /x\n"))
		require.NoError(t, err)
		assert.Equal(t, '`', f.Escape)
		ins := f.Stages[0].Instructions
		require.Len(t, ins, 2)
		assert.Equal(t, Range{3, 4}, ins[0].Lines)
		assert.Equal(t, []string{`c:\dir\`}, ins[1].Sources())
	})
	t.Run("numeric --from and RUN mounts", func(t *testing.T) {
		f, err := Parse([]byte("FROM busybox\nFROM busybox\nCOPY --from=0 /a /a\nRUN --mount=type=bind,from=0,target=/s --mount=type=cache,target=/c true\n"))
		require.NoError(t, err)
		ins := f.Stages[1].Instructions
		assert.Equal(t, "0", ins[0].CopyFrom())
		assert.Equal(t, 0, f.StageIndex("0", 1))
		assert.Equal(t, -1, f.StageIndex("1", 1), "a stage cannot name itself")
		m := ins[1].Mounts()
		require.Len(t, m, 2)
		assert.Equal(t, "0", m[0].From)
		assert.Equal(t, "cache", string(m[1].Type))
		assert.Equal(t, []string{"0", "0"}, append(StageRefs(ins[0]), StageRefs(ins[1])...))
	})
	t.Run("ARGs before FROM expand into later defaults and FROM", func(t *testing.T) {
		f, err := Parse([]byte("ARG REG=docker.io\nARG IMG=${REG}/library/busybox\nARG TAG\nFROM $IMG:${TAG:-latest} AS a\nFROM a\n"))
		require.NoError(t, err)
		assert.Equal(t, []string{"docker.io/library/busybox:latest"}, f.Bases(nil))
		assert.Equal(t, []string{"docker.io/library/busybox:1"}, f.Bases([]string{"TAG=1"}))
		assert.Equal(t, []string{"r/library/busybox:latest"}, f.Bases([]string{"REG=r"}))
		assert.Equal(t, 0, f.BaseStage(1))
	})
	t.Run("what BuildKit refuses is refused", func(t *testing.T) {
		for _, bad := range []string{"", "RUN x\n", "FROM\n", "FROM a b\n", "FROM a\nCOPY --bogus=1 a b\n", "FROM a\nRUN <<EOF\nno end\n", "FROM a AS 1x\n"} {
			_, err := Parse([]byte(bad))
			assert.Error(t, err, "%q", bad)
		}
		_, err := Parse([]byte("FROM a\n\nCOPY --bogus=1 a b\n"))
		assert.EqualError(t, err, "line 3: unknown flag: --bogus")
	})
	t.Run("a check directive above an instruction", func(t *testing.T) {
		f, err := Parse([]byte("FROM busybox\n# check=skip=all\nRUN true\n"))
		require.NoError(t, err)
		assert.Len(t, f.Stages[0].Instructions, 1)
	})
}
