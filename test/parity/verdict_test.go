package parity

import (
	"testing"

	"github.com/convox/rack/test/parity/imagecmp"

	"github.com/stretchr/testify/assert"
)

// TestRefusal: what counts as a refusal up front, and what does not.
func TestRefusal(t *testing.T) {
	want := refuse(3, "--mount")
	for _, ok := range []string{
		"ERROR: Dockerfile:3: RUN --mount is not supported on fargate; build with BuildMethod=ec2",
		"Dockerfile line 3: RUN --mount=type=bind ... kaniko ignores it (use BuildMethod=ec2)",
		"line 3 of Dockerfile: --mount: set BuildMethod=ec2",
	} {
		assert.Empty(t, refusal(want, ok), ok)
	}
	for _, bad := range []string{
		"Dockerfile:4: RUN --mount: BuildMethod=ec2",                                               // wrong line
		"Dockerfile:3: unsupported construct: BuildMethod=ec2",                                     // no construct
		"Dockerfile:3: RUN --mount is not supported",                                               // no advice
		"INFO[0000] Retrieving image manifest busybox\nDockerfile:3: RUN --mount: BuildMethod=ec2", // after kaniko ran
		"Dockerfile:33: RUN --mount: BuildMethod=ec2",
	} {
		assert.NotEmpty(t, refusal(want, bad), bad)
	}
}

// TestDifferenceMatchers: each documented difference matches its own kind
// of difference and not the others.
func TestDifferenceMatchers(t *testing.T) {
	samples := map[string]imagecmp.Diff{
		"copy-from-drops-setuid":      {Field: imagecmp.ModeOf, Path: "app/suid", Type: imagecmp.File, Want: "4755", Got: "0755"},
		"chown-parent-owner":          {Field: imagecmp.OwnerOf, Path: "app", Type: imagecmp.Dir, Want: "1000:1000", Got: "0:0"},
		"copy-dir-owner":              {Field: imagecmp.OwnerOf, Path: "app", Type: imagecmp.Dir, Want: "0:0", Got: "1000:1000"},
		"user-uid-gid":                {Field: imagecmp.OwnerOf, Path: "app/built", Type: imagecmp.File, Want: "1000:0", Got: "1000:1000"},
		"hardlinks-not-kept":          {Field: imagecmp.LinkGroup, Path: "app/a", Type: imagecmp.File, Want: "app/a,app/b", Got: "none"},
		"symlink-source-not-followed": {Field: imagecmp.TypeOf, Path: "app/sh", Type: imagecmp.File, Want: "file 0755 0:0 10 bytes", Got: "symlink -> busybox"},
		"scratch-workdir":             {Field: imagecmp.WorkingDir, Want: `"/"`, Got: `""`},
		"run-mountpoints":             {Field: imagecmp.Missing, Path: "proc", Type: imagecmp.Dir, Want: "dir 0755 0:0", Got: "nothing"},
	}
	assert.Len(t, samples, len(Differences))
	for id, d := range samples {
		for _, doc := range Differences {
			assert.Equal(t, doc.ID == id, doc.Match(d, []imagecmp.Diff{d}), "%s on a %s difference", doc.ID, id)
		}
	}
	// near misses stay undocumented
	for _, d := range []imagecmp.Diff{
		{Field: imagecmp.ModeOf, Path: "f", Want: "4755", Got: "0644"},
		{Field: imagecmp.ContentOf, Path: "f", Want: "a", Got: "b"},
		{Field: imagecmp.Missing, Path: "f", Want: "file", Got: "nothing"},
		{Field: imagecmp.OwnerOf, Path: "f", Type: imagecmp.File, Want: "1000:1000", Got: "0:0"},
		{Field: imagecmp.Missing, Path: "etc", Type: imagecmp.Dir, Want: "dir 0755 0:0", Got: "nothing"},
		{Field: imagecmp.Missing, Path: "app/x", Type: imagecmp.File, Want: "file", Got: "nothing"},
	} {
		assert.Len(t, undocumented([]imagecmp.Diff{d}, []string{"copy-from-drops-setuid", "chown-parent-owner", "run-mountpoints", "symlink-source-not-followed"}), 1, d.String())
	}
	// a linked directory's files are part of the same difference
	link := imagecmp.Diff{Field: imagecmp.TypeOf, Path: "app/srclink", Type: imagecmp.Dir, Want: "dir 0755 0:0", Got: "symlink -> src"}
	child := imagecmp.Diff{Field: imagecmp.Missing, Path: "app/srclink/real.txt", Type: imagecmp.File, Want: "file", Got: "nothing"}
	assert.Empty(t, undocumented([]imagecmp.Diff{link, child}, []string{"symlink-source-not-followed"}))
	assert.Len(t, undocumented([]imagecmp.Diff{child}, []string{"symlink-source-not-followed"}), 1)
}
