package imagecmp

import (
	"archive/tar"
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ent is one tar entry of a test layer.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid              int
}

func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg, mode: 0o644} }
func symlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, target string) ent { return ent{name: name, link: target, typ: tar.TypeLink} }
func whiteout(name string) ent         { return file(name, "") }
func withMode(e ent, mode int64) ent   { e.mode = mode; return e }
func withOwner(e ent, uid int) ent     { e.uid = uid; return e }
func layer(t *testing.T, es ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link,
			Size: int64(len(e.body)), Uid: e.uid, Gid: e.uid}))
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// TestApply walks the OCI changeset rules one by one: what each layer stack
// leaves at each path (a path listed with "" must be absent).
func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers [][]ent
		// want maps a path to its type and content ("" = absent)
		want map[string]string
	}{
		{"plain files", [][]ent{{dir("a/"), file("a/f", "1")}},
			map[string]string{"a": "dir", "a/f": "file:1"}},
		{"whiteout removes a file", [][]ent{{dir("a/"), file("a/f", "1"), file("a/g", "2")}, {whiteout("a/.wh.f")}},
			map[string]string{"a/f": "", "a/g": "file:2"}},
		{"whiteout removes a tree", [][]ent{{dir("a/"), dir("a/b/"), file("a/b/f", "1")}, {whiteout("a/.wh.b")}},
			map[string]string{"a": "dir", "a/b": "", "a/b/f": ""}},
		// the case mutate.Extract gets wrong: rm -rf /out then mkdir /out again
		{"deleted then re-added dir keeps only the new files", [][]ent{
			{dir("out/"), file("out/old", "o"), file("out/stale", "s")},
			{whiteout(".wh.out")},
			{dir("out/"), file("out/new", "n")}},
			map[string]string{"out": "dir", "out/new": "file:n", "out/old": "", "out/stale": ""}},
		{"whiteout and re-add in one layer", [][]ent{
			{dir("out/"), file("out/old", "o")},
			{whiteout(".wh.out"), dir("out/"), file("out/new", "n")}},
			map[string]string{"out/new": "file:n", "out/old": ""}},
		{"whiteout after the re-add in the same layer hides only lower layers", [][]ent{
			{dir("out/"), file("out/old", "o")},
			{dir("out/"), file("out/new", "n"), whiteout(".wh.out")}},
			map[string]string{"out/new": "file:n", "out/old": ""}},
		{"opaque dir hides lower children", [][]ent{
			{dir("d/"), file("d/a", "1"), dir("d/sub/"), file("d/sub/b", "2")},
			{dir("d/"), whiteout("d/.wh..wh..opq"), file("d/c", "3")}},
			map[string]string{"d": "dir", "d/a": "", "d/sub": "", "d/sub/b": "", "d/c": "file:3"}},
		{"opaque marker after the layer's own children keeps them", [][]ent{
			{dir("d/"), file("d/a", "1")},
			{dir("d/"), file("d/c", "3"), whiteout("d/.wh..wh..opq")}},
			map[string]string{"d/a": "", "d/c": "file:3"}},
		{"dir replaced by a symlink", [][]ent{
			{dir("out/"), file("out/f", "old"), dir("new/"), file("new/f", "new")},
			{whiteout(".wh.out"), symlink("out", "/new")}},
			map[string]string{"out": "symlink:/new", "out/f": "", "new/f": "file:new"}},
		{"dir replaced by a symlink without a whiteout", [][]ent{
			{dir("out/"), file("out/f", "old")},
			{symlink("out", "/new")}},
			map[string]string{"out": "symlink:/new", "out/f": ""}},
		{"symlink replaced by a dir", [][]ent{
			{symlink("out", "/new")},
			{dir("out/"), file("out/f", "x")}},
			map[string]string{"out": "dir", "out/f": "file:x"}},
		{"file replaced by a dir through an implicit parent", [][]ent{
			{file("a", "x")},
			{file("a/b", "y")}},
			map[string]string{"a": "dir", "a/b": "file:y"}},
		{"file overwritten", [][]ent{{file("f", "1")}, {file("f", "2")}},
			map[string]string{"f": "file:2"}},
		{"whiteout of a missing path is harmless", [][]ent{{file("f", "1")}, {whiteout(".wh.nothing")}},
			map[string]string{"f": "file:1", "nothing": ""}},
		{"aufs meta files are not paths", [][]ent{{dir(".wh..wh.plnk/"), file("f", "1")}},
			map[string]string{".wh..wh.plnk": "", "f": "file:1"}},
		{"names with ./ and leading slash", [][]ent{{dir("./a/"), file("/a/f", "1")}},
			map[string]string{"a/f": "file:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := NewFS()
			for _, l := range tc.layers {
				require.NoError(t, fs.Apply(bytes.NewReader(layer(t, l...))))
			}
			for p, want := range tc.want {
				e, ok := fs.Get(p)
				if want == "" {
					assert.False(t, ok, "%s should be absent, is %+v", p, e)
					continue
				}
				require.True(t, ok, "%s missing; have %v", p, fs.Paths())
				assert.Equal(t, want, show(e, tc.layers), p)
			}
		})
	}
}

// show is an entry as the table writes it: "dir", "file:<body>", "symlink:<target>".
func show(e *Entry, layers [][]ent) string {
	switch e.Type {
	case File:
		for _, l := range layers {
			for _, x := range l {
				if x.typ == tar.TypeReg && x.body != "" && sum(x.body) == e.SHA256 {
					return "file:" + x.body
				}
			}
		}
		return "file:?"
	case Symlink:
		return "symlink:" + e.Target
	}
	return string(e.Type)
}

func TestHardLinks(t *testing.T) {
	fs := NewFS()
	require.NoError(t, fs.Apply(bytes.NewReader(layer(t,
		withMode(withOwner(file("a", "x"), 7), 0o4755), hardlink("b", "a"), hardlink("/c", "./a"), file("d", "x")))))
	groups := fs.LinkGroups()
	assert.Equal(t, []string{"a", "b", "c"}, groups["b"])
	assert.Nil(t, groups["d"], "same content is not a link")
	b, _ := fs.Get("b")
	assert.Equal(t, int64(0o4755), b.Mode, "a link has its inode's mode")
	assert.Equal(t, 7, b.UID)
	// replacing one path breaks it out of the group
	require.NoError(t, fs.Apply(bytes.NewReader(layer(t, file("a", "y")))))
	groups = fs.LinkGroups()
	assert.Equal(t, []string{"b", "c"}, groups["b"])
	assert.Nil(t, groups["a"])
	// a link to nothing is an error
	assert.Error(t, NewFS().Apply(bytes.NewReader(layer(t, hardlink("b", "a")))))
}

func TestModesAndOwners(t *testing.T) {
	fs := NewFS()
	require.NoError(t, fs.Apply(bytes.NewReader(layer(t,
		withMode(dir("s/"), 0o1777), withMode(dir("ro/"), 0o555), withOwner(withMode(file("g", "1"), 0o2755), 1000)))))
	s, _ := fs.Get("s")
	assert.Equal(t, int64(0o1777), s.Mode)
	ro, _ := fs.Get("/ro")
	assert.Equal(t, int64(0o555), ro.Mode)
	g, _ := fs.Get("g")
	assert.Equal(t, int64(0o2755), g.Mode)
	assert.Equal(t, 1000, g.UID)
	assert.Equal(t, int64(1), g.Size)
}
