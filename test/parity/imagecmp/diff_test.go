package imagecmp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func image(t *testing.T, c Config, es ...ent) *Image {
	t.Helper()
	fs := NewFS()
	require.NoError(t, fs.Apply(bytes.NewReader(layer(t, es...))))
	return &Image{FS: fs, Config: c}
}

func TestCompare(t *testing.T) {
	base := []ent{dir("app/"), file("app/a", "1"), symlink("app/l", "a"), file("app/h", "h"), hardlink("app/h2", "app/h")}
	want := image(t, Config{Env: []string{"A=1"}, WorkingDir: "/app", Labels: map[string]string{"k": "v"}}, base...)

	assert.Empty(t, Compare(want, image(t, Config{Env: []string{"A=1"}, WorkingDir: "/app", Labels: map[string]string{"k": "v"}}, base...)))

	for _, tc := range []struct {
		name string
		got  *Image
		want []Diff
	}{
		{"missing and extra", image(t, want.Config, dir("app/"), file("app/a", "1"), symlink("app/l", "a"), file("app/h", "h"), hardlink("app/h2", "app/h"), file("app/x", "")),
			[]Diff{{Field: Extra, Path: "app/x", Type: File, Want: "nothing", Got: "file 0644 0:0 0 bytes"}}},
		{"content, size, mode, target, links", image(t, want.Config, dir("app/"), withMode(file("app/a", "22"), 0o755), symlink("app/l", "b"), file("app/h", "h"), file("app/h2", "h")),
			[]Diff{
				{Field: ModeOf, Path: "app/a", Type: File, Want: "0644", Got: "0755"},
				{Field: SizeOf, Path: "app/a", Type: File, Want: "1", Got: "2"},
				{Field: ContentOf, Path: "app/a", Type: File, Want: sum("1"), Got: sum("22")},
				{Field: LinkGroup, Path: "app/h", Type: File, Want: "app/h,app/h2", Got: "none"},
				{Field: LinkGroup, Path: "app/h2", Type: File, Want: "app/h,app/h2", Got: "none"},
				{Field: TargetOf, Path: "app/l", Type: Symlink, Want: "a", Got: "b"},
			}},
		{"type and owner", image(t, want.Config, withOwner(dir("app/"), 1000), dir("app/a/"), symlink("app/l", "a"), file("app/h", "h"), hardlink("app/h2", "app/h")),
			[]Diff{
				{Field: OwnerOf, Path: "app", Type: Dir, Want: "0:0", Got: "1000:1000"},
				{Field: TypeOf, Path: "app/a", Type: File, Want: "file 0644 0:0 1 bytes", Got: "dir 0755 0:0"},
			}},
		{"config", image(t, Config{Env: []string{"A=1 "}, WorkingDir: "/", User: "1000", ExposedPorts: []string{"80/tcp"}, Labels: map[string]string{"k": "v\n"}, Cmd: []string{"sh"}}, base...),
			[]Diff{
				{Field: Env, Want: `["A=1"]`, Got: `["A=1 "]`},
				{Field: WorkingDir, Want: `"/app"`, Got: `"/"`},
				{Field: Cmd, Want: `[]`, Got: `["sh"]`},
				{Field: User, Want: `""`, Got: `"1000"`},
				{Field: ExposedPorts, Want: `[]`, Got: `["80/tcp"]`},
				{Field: Labels, Want: `map["k":"v"]`, Got: `map["k":"v\n"]`},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Compare(want, tc.got))
		})
	}
}
