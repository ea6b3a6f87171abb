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
	// Match says whether d, one of all the differences of kaniko's image
	// from docker build's, is this one.
	Match func(d imagecmp.Diff, all []imagecmp.Diff) bool
}

// Differences are the kaniko differences from docker build that remain on
// fargate. A case that shows one names it; any other difference fails the case.
var Differences = []Difference{
	{ID: "copy-from-drops-setuid", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		// COPY --from: setuid and setgid bits are dropped, the rest kept
		w, g, ok := modes(d)
		return ok && w&0o6000 != 0 && g == w&^0o6000
	}},
	{ID: "chown-parent-owner", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		// COPY --chown: the parent directories it creates stay root's
		return d.Field == imagecmp.OwnerOf && d.Type == imagecmp.Dir && d.Want != "0:0" && d.Got == "0:0"
	}},
	{ID: "copy-dir-owner", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		// COPY of a directory: the destination directory takes the source's owner
		return d.Field == imagecmp.OwnerOf && d.Type == imagecmp.Dir && d.Want == "0:0" && d.Got != "0:0"
	}},
	{ID: "user-uid-gid", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		// USER <uid> that /etc/passwd does not name: gid = uid (docker: 0)
		if d.Field != imagecmp.OwnerOf {
			return false
		}
		wu, wg, ok1 := strings.Cut(d.Want, ":")
		gu, gg, ok2 := strings.Cut(d.Got, ":")
		return ok1 && ok2 && wu == gu && wu != "0" && wg == "0" && gg == gu
	}},
	{ID: "hardlinks-not-kept", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		return d.Field == imagecmp.LinkGroup && d.Got == "none"
	}},
	{ID: "symlink-source-not-followed", Match: func(d imagecmp.Diff, all []imagecmp.Diff) bool {
		// COPY of a source that is itself a symlink copies the link, not
		// what it names (and so none of a linked directory's files)
		if linkForFile(d) {
			return true
		}
		if d.Field != imagecmp.Missing {
			return false
		}
		for _, a := range all {
			if linkForFile(a) && strings.HasPrefix(d.Path, a.Path+"/") {
				return true
			}
		}
		return false
	}},
	{ID: "scratch-workdir", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		return d.Field == imagecmp.WorkingDir && d.Want == `"/"` && d.Got == `""`
	}},
	{ID: "run-mountpoints", Match: func(d imagecmp.Diff, _ []imagecmp.Diff) bool {
		// a RUN on a base without /dev, /proc, /sys: docker leaves them as empty directories
		return d.Field == imagecmp.Missing && d.Type == imagecmp.Dir && (d.Path == "dev" || d.Path == "proc" || d.Path == "sys")
	}},
}

// linkForFile: docker build has a file or directory where kaniko has a symlink.
func linkForFile(d imagecmp.Diff) bool {
	return d.Field == imagecmp.TypeOf && (d.Type == imagecmp.File || d.Type == imagecmp.Dir) && strings.HasPrefix(d.Got, "symlink ")
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
