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
		"copy-from-drops-setuid":      {Field: imagecmp.ModeOf, Path: "app/suid", Want: "4755", Got: "0755"},
		"chown-dir-mode":              {Field: imagecmp.ModeOf, Path: "app/src", Want: "0755", Got: "0700"},
		"hardlinks-not-kept":          {Field: imagecmp.LinkGroup, Path: "app/a", Want: "app/a,app/b", Got: "none"},
		"copy-from-user-owner":        {Field: imagecmp.OwnerOf, Path: "app/src.txt", Want: "0:0", Got: "1000:1000"},
		"symlink-source-not-followed": {Field: imagecmp.TypeOf, Path: "app/sh", Want: "file 0755 0:0 10 bytes", Got: "symlink -> busybox"},
		"scratch-workdir":             {Field: imagecmp.WorkingDir, Want: `"/"`, Got: `""`},
	}
	assert.Len(t, samples, len(Differences))
	for id, d := range samples {
		for _, doc := range Differences {
			assert.Equal(t, doc.ID == id, doc.Match(d), "%s on a %s difference", doc.ID, id)
		}
	}
	// near misses stay undocumented
	for _, d := range []imagecmp.Diff{
		{Field: imagecmp.ModeOf, Path: "f", Want: "4755", Got: "0644"},
		{Field: imagecmp.ContentOf, Path: "f", Want: "a", Got: "b"},
		{Field: imagecmp.Missing, Path: "f", Want: "file", Got: "nothing"},
		{Field: imagecmp.OwnerOf, Path: "f", Want: "1000:1000", Got: "0:0"},
	} {
		assert.Len(t, undocumented([]imagecmp.Diff{d}, []string{"copy-from-drops-setuid", "copy-from-user-owner"}), 1, d.String())
	}
}
