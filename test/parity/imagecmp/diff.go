package imagecmp

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Field is what a difference is about.
type Field string

// The fields the comparison looks at.
const (
	// Missing: the path is in the reference (Want) and not in the image (Got).
	Missing Field = "missing"
	// Extra: the path is in the image and not in the reference.
	Extra     Field = "extra"
	TypeOf    Field = "type"
	ModeOf    Field = "mode"
	OwnerOf   Field = "owner"
	SizeOf    Field = "size"
	ContentOf Field = "content"
	TargetOf  Field = "target"
	// LinkGroup: the set of paths hard-linked together.
	LinkGroup    Field = "hardlinks"
	Env          Field = "Env"
	WorkingDir   Field = "WorkingDir"
	Cmd          Field = "Cmd"
	Entrypoint   Field = "Entrypoint"
	User         Field = "User"
	ExposedPorts Field = "ExposedPorts"
	Labels       Field = "Labels"
)

// Diff is one difference between an image and its reference. Path is empty
// for a config field.
type Diff struct {
	Field Field
	Path  string
	// Type is the path's type in the reference (in the image for Extra).
	Type Type
	Want string
	Got  string
}

func (d Diff) String() string {
	if d.Path == "" {
		return fmt.Sprintf("%s: want %s, got %s", d.Field, d.Want, d.Got)
	}
	return fmt.Sprintf("/%s: %s: want %s, got %s", d.Path, d.Field, d.Want, d.Got)
}

// Compare lists every difference of got from want, paths in order, then the config.
func Compare(want, got *Image) []Diff {
	diffs := compareFS(want.FS, got.FS)
	return append(diffs, compareConfig(want.Config, got.Config)...)
}

func compareFS(want, got *FS) []Diff {
	var out []Diff
	wl, gl := want.LinkGroups(), got.LinkGroups()
	seen := map[string]bool{}
	for _, p := range want.Paths() {
		seen[p] = true
		w, _ := want.Get(p)
		g, ok := got.Get(p)
		if !ok {
			out = append(out, Diff{Field: Missing, Path: p, Type: w.Type, Want: describe(w), Got: "nothing"})
			continue
		}
		out = append(out, compareEntry(p, w, g)...)
		if wg, gg := strings.Join(wl[p], ","), strings.Join(gl[p], ","); wg != gg {
			out = append(out, Diff{Field: LinkGroup, Path: p, Type: w.Type, Want: orNone(wg), Got: orNone(gg)})
		}
	}
	for _, p := range got.Paths() {
		if !seen[p] {
			g, _ := got.Get(p)
			out = append(out, Diff{Field: Extra, Path: p, Type: g.Type, Want: "nothing", Got: describe(g)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func compareEntry(p string, w, g *Entry) []Diff {
	if w.Type != g.Type {
		return []Diff{{Field: TypeOf, Path: p, Type: w.Type, Want: describe(w), Got: describe(g)}}
	}
	var out []Diff
	add := func(f Field, want, got string) {
		if want != got {
			out = append(out, Diff{Field: f, Path: p, Type: w.Type, Want: want, Got: got})
		}
	}
	add(ModeOf, fmt.Sprintf("%04o", w.Mode), fmt.Sprintf("%04o", g.Mode))
	add(OwnerOf, fmt.Sprintf("%d:%d", w.UID, w.GID), fmt.Sprintf("%d:%d", g.UID, g.GID))
	switch w.Type {
	case File:
		add(SizeOf, fmt.Sprint(w.Size), fmt.Sprint(g.Size))
		add(ContentOf, w.SHA256, g.SHA256)
	case Symlink:
		add(TargetOf, w.Target, g.Target)
	case Char, Block:
		add(TypeOf, fmt.Sprintf("%s %d,%d", w.Type, w.DevMajor, w.DevMinor), fmt.Sprintf("%s %d,%d", g.Type, g.DevMajor, g.DevMinor))
	}
	return out
}

func compareConfig(want, got Config) []Diff {
	var out []Diff
	add := func(f Field, w, g any) {
		if !reflect.DeepEqual(norm(w), norm(g)) {
			out = append(out, Diff{Field: f, Want: fmt.Sprintf("%q", w), Got: fmt.Sprintf("%q", g)})
		}
	}
	add(Env, want.Env, got.Env)
	add(WorkingDir, want.WorkingDir, got.WorkingDir)
	add(Cmd, want.Cmd, got.Cmd)
	add(Entrypoint, want.Entrypoint, got.Entrypoint)
	add(User, want.User, got.User)
	add(ExposedPorts, want.ExposedPorts, got.ExposedPorts)
	add(Labels, want.Labels, got.Labels)
	return out
}

// norm treats an empty list or map as absent: the config JSON omits both alike.
func norm(v any) any {
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return nil
		}
	case map[string]string:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

func describe(e *Entry) string {
	switch e.Type {
	case File:
		return fmt.Sprintf("file %04o %d:%d %d bytes", e.Mode, e.UID, e.GID, e.Size)
	case Symlink:
		return fmt.Sprintf("symlink -> %s", e.Target)
	default:
		return fmt.Sprintf("%s %04o %d:%d", e.Type, e.Mode, e.UID, e.GID)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
