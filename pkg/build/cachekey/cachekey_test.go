package cachekey

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// app writes a build context with the given files and returns its keys.
func app(t *testing.T, df string, files map[string]string, target string, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return Keys(parse(t, df), dir, target, args)
}

func parse(t *testing.T, df string) *dockerfile.File {
	t.Helper()
	f, err := dockerfile.Parse([]byte(df))
	require.NoError(t, err)
	return f
}

const single = `FROM busybox
WORKDIR /app
COPY deps.txt .
RUN install deps
COPY src/ ./src/
RUN build
`

const multi = `FROM debian:bookworm-slim AS deps
COPY package.json package-lock.json ./
RUN npm ci
FROM deps AS build
COPY . .
RUN npm run build
FROM busybox AS development
COPY --from=deps /node_modules /node_modules
FROM busybox
COPY --from=build /app /app
`

func TestKeys(t *testing.T) {
	depsA := map[string]string{"deps.txt": "left-pad 1", "src/a": "one"}
	base := app(t, single, depsA, "")
	require.Len(t, base, 1, "one dependency prefix: up to the RUN before COPY src/")

	t.Run("a source change keeps the key", func(t *testing.T) {
		assert.Equal(t, base, app(t, single, map[string]string{"deps.txt": "left-pad 1", "src/a": "two", "src/b": "new"}, ""))
	})
	t.Run("a dependency file change makes a new key", func(t *testing.T) {
		assert.NotEqual(t, base, app(t, single, map[string]string{"deps.txt": "left-pad 2", "src/a": "one"}, ""))
	})
	t.Run("a build arg change makes a new key", func(t *testing.T) {
		assert.NotEqual(t, base, app(t, single, depsA, "", "VERSION=2"))
	})
	t.Run("a different install command makes a new key", func(t *testing.T) {
		assert.NotEqual(t, base, app(t, `FROM busybox
WORKDIR /app
COPY deps.txt .
RUN install deps --production
COPY src/ ./src/
`, depsA, ""))
	})
	t.Run("nothing run before the first directory copy: no key", func(t *testing.T) {
		assert.Empty(t, app(t, "FROM busybox\nCOPY . .\nRUN make\n", depsA, ""))
		assert.Empty(t, app(t, "FROM busybox\nADD https://example.com/x.tgz /x\nRUN make\n", depsA, ""))
		assert.Empty(t, app(t, "FROM busybox\nRUN --mount=type=bind,target=/src make\n", depsA, ""))
	})
	t.Run("cache and secret mounts do not stop the prefix", func(t *testing.T) {
		assert.Len(t, app(t, "FROM busybox\nCOPY deps.txt .\nRUN --mount=type=cache,target=/root/.cache install\n", depsA, ""), 1)
	})
	t.Run("a missing file is keyed by its name", func(t *testing.T) {
		assert.Len(t, app(t, "FROM busybox\nCOPY nothere.txt .\nRUN install\n", depsA, ""), 1)
	})
}

func TestKeysMultiStage(t *testing.T) {
	files := map[string]string{"package.json": `{"name":"a"}`, "package-lock.json": "lock-1", "index.js": "1"}
	keys := app(t, multi, files, "")
	require.Len(t, keys, 1, "deps is keyed whole; build stops at COPY . .; the final stage runs nothing")
	dev := app(t, multi, files, "development")
	assert.Equal(t, keys, dev, "the development target needs the same dependency stage")

	t.Run("JSON-form sources", func(t *testing.T) {
		j := app(t, `FROM debian:bookworm-slim AS deps
COPY ["package.json", "package-lock.json", "./"]
RUN npm ci
`, files, "")
		require.Len(t, j, 1)
	})
	t.Run("a stage built on a fully keyed stage gets its own key", func(t *testing.T) {
		k := app(t, `FROM busybox AS deps
COPY package.json .
RUN install
FROM deps AS tools
RUN install tools
FROM busybox
COPY --from=tools /t /t
RUN check
`, files, "")
		assert.Len(t, k, 3, "deps, tools, and the final stage's prefix")
	})
	t.Run("unused stages are not keyed", func(t *testing.T) {
		k := app(t, `FROM busybox AS unused
COPY package.json .
RUN install
FROM busybox
COPY package-lock.json .
RUN other
`, files, "")
		assert.Len(t, k, 1)
	})
	t.Run("lockfile change", func(t *testing.T) {
		changed := map[string]string{"package.json": `{"name":"a"}`, "package-lock.json": "lock-2", "index.js": "1"}
		assert.NotEqual(t, keys, app(t, multi, changed, ""))
	})
}

func TestKeysStayInsideTheContext(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("s"), 0o600))
	dir := t.TempDir()
	// ../ is cleaned to the context root: the file outside is never read.
	k := Keys(parse(t, "FROM busybox\nCOPY ../"+filepath.Base(outside)+" .\nRUN x\n"), dir, "", nil)
	assert.Len(t, k, 1)
}

// TestKeysForms: the key reads the Dockerfile as BuildKit does.
func TestKeysForms(t *testing.T) {
	files := map[string]string{"deps.txt": "left-pad 1", "src/a": "one"}
	base := app(t, single, files, "")
	require.Len(t, base, 1)

	t.Run("tabs between words are read as BuildKit reads them", func(t *testing.T) {
		k := app(t, "FROM\tbusybox\nWORKDIR\t/app\nCOPY\tdeps.txt\t.\nRUN\tinstall deps\nCOPY\tsrc/ ./src/\n", files, "")
		require.Len(t, k, 1, "the COPY of deps.txt is a file copy, the directory copy stops the prefix")
		changed := app(t, "FROM\tbusybox\nWORKDIR\t/app\nCOPY\tdeps.txt\t.\nRUN\tinstall deps\n", map[string]string{"deps.txt": "left-pad 2"}, "")
		assert.NotEqual(t, k, changed, "the file after a tab is hashed")
	})
	t.Run("continuation lines: the file after them is hashed, comments inside are not instructions", func(t *testing.T) {
		df := "FROM busybox\nCOPY \\\n# a comment\n  deps.txt \\\n  ./\nRUN install \\\n  deps\n"
		k := app(t, df, files, "")
		require.Len(t, k, 1)
		assert.NotEqual(t, k, app(t, df, map[string]string{"deps.txt": "left-pad 2"}, ""))
	})
	t.Run("heredoc bodies are part of the key and never instructions", func(t *testing.T) {
		df := func(body string) string {
			return "FROM busybox\nCOPY <<EOF /etc/deps.txt\n" + body + "\nEOF\nRUN install\nCOPY . .\n"
		}
		a := app(t, df("left-pad 1"), files, "")
		require.Len(t, a, 1, "a heredoc COPY names its input: the prefix runs to the RUN")
		assert.NotEqual(t, a, app(t, df("left-pad 2"), files, ""), "a heredoc change makes a new key")
		assert.Len(t, app(t, df("COPY . .\nRUN x"), files, ""), 1, "a body that looks like instructions is not read as them")
		run := app(t, "FROM busybox\nRUN <<EOF\nCOPY . .\nEOF\n", files, "")
		assert.Len(t, run, 1)
	})
	t.Run("JSON forms with spaces in names", func(t *testing.T) {
		sp := map[string]string{"my deps.txt": "a"}
		k := app(t, "FROM busybox\nCOPY [\"my deps.txt\", \"./\"]\nRUN install\n", sp, "")
		require.Len(t, k, 1)
		assert.NotEqual(t, k, app(t, "FROM busybox\nCOPY [\"my deps.txt\", \"./\"]\nRUN install\n", map[string]string{"my deps.txt": "b"}, ""))
	})
	t.Run("numeric --from names the stage by its number", func(t *testing.T) {
		df := "FROM busybox\nCOPY deps.txt .\nRUN install\nFROM busybox\nCOPY --from=0 /deps /deps\nRUN check\n"
		k := app(t, df, files, "")
		assert.Len(t, k, 2, "stage 0 keyed whole, the final stage keyed on it")
		assert.NotEqual(t, k, app(t, df, map[string]string{"deps.txt": "left-pad 2"}, ""), "the final key follows stage 0's")
	})
	t.Run("escape directive", func(t *testing.T) {
		df := "# escape=`\nFROM busybox\nCOPY deps.txt `\n  ./\nRUN install\n"
		k := app(t, df, files, "")
		require.Len(t, k, 1)
		assert.NotEqual(t, k, app(t, df, map[string]string{"deps.txt": "left-pad 2"}, ""))
	})
	t.Run("a bind mount from a stage stops the prefix", func(t *testing.T) {
		assert.Empty(t, app(t, "FROM busybox AS a\nFROM busybox\nRUN --mount=from=a,target=/a x\n", files, ""))
	})
}

// TestKeysReadNoLinkOut: a context file linked out of the context (the source
// keeps such links, as docker's context does) is never read for a key.
func TestKeysReadNoLinkOut(t *testing.T) {
	keys := func(body string) []string {
		outside := filepath.Join(t.TempDir(), "secret.txt")
		require.NoError(t, os.WriteFile(outside, []byte(body), 0o600))
		dir := t.TempDir()
		require.NoError(t, os.Symlink(outside, filepath.Join(dir, "deps.txt")))
		f, err := dockerfile.Parse([]byte(single))
		require.NoError(t, err)
		return Keys(f, dir, "", nil)
	}
	assert.Equal(t, keys("one secret"), keys("another secret"), "the linked file's content went into the key")
	inside := app(t, single, map[string]string{"deps.txt": "one secret"}, "")
	assert.NotEqual(t, inside, keys("one secret"), "a regular file's content keys the prefix")
}
