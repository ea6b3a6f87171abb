// Package parity is the differential corpus of issue 19: small Dockerfiles
// (cases/) built on a local rack by both build methods and compared, file by
// file and config by config, with plain docker build (BuildKit's Dockerfile
// frontend) and plain kaniko of the same context. See parity_test.go.
package parity

import (
	"strconv"
	"strings"

	"github.com/convox/rack/test/parity/imagecmp"
)

// Difference is one documented way a fargate (kaniko) image differs from
// docker build's. docs/FARGATE.md lists every ID under "Differences from
// docker build on fargate"; a test keeps the two together.
type Difference struct {
	// ID is how the doc and the cases name it.
	ID string
	// Match says whether one difference of kaniko's image from docker's is this one.
	Match func(d imagecmp.Diff) bool
}

// Differences are the kaniko differences from docker build that remain on
// fargate. A case that shows one names it; any other difference fails the case.
var Differences = []Difference{
	{ID: "copy-from-drops-setuid", Match: func(d imagecmp.Diff) bool {
		// COPY --from: setuid and setgid bits are dropped, the rest kept
		w, g, ok := modes(d)
		return ok && w&0o6000 != 0 && g == w&^0o6000
	}},
	{ID: "chown-dir-mode", Match: func(d imagecmp.Diff) bool {
		// COPY --chown: the directories it creates get mode 0700
		_, g, ok := modes(d)
		return ok && g == 0o700
	}},
	{ID: "hardlinks-not-kept", Match: func(d imagecmp.Diff) bool {
		return d.Field == imagecmp.LinkGroup && d.Got == "none"
	}},
	{ID: "copy-from-user-owner", Match: func(d imagecmp.Diff) bool {
		// a file COPY'd in a stage under USER 1000 is owned by that user
		return d.Field == imagecmp.OwnerOf && d.Want == "0:0" && d.Got == "1000:1000"
	}},
	{ID: "symlink-source-not-followed", Match: func(d imagecmp.Diff) bool {
		// COPY --from=image of a symlink copies the link, not the file it names
		return d.Field == imagecmp.TypeOf && strings.HasPrefix(d.Want, "file ") && strings.HasPrefix(d.Got, "symlink ")
	}},
	{ID: "scratch-workdir", Match: func(d imagecmp.Diff) bool {
		return d.Field == imagecmp.WorkingDir && d.Want == `"/"` && d.Got == `""`
	}},
}

// difference finds a documented difference by ID.
func difference(id string) (Difference, bool) {
	for _, d := range Differences {
		if d.ID == id {
			return d, true
		}
	}
	return Difference{}, false
}

func modes(d imagecmp.Diff) (want, got int64, ok bool) {
	if d.Field != imagecmp.ModeOf {
		return 0, 0, false
	}
	w, err1 := strconv.ParseInt(d.Want, 8, 64)
	g, err2 := strconv.ParseInt(d.Got, 8, 64)
	return w, g, err1 == nil && err2 == nil
}
