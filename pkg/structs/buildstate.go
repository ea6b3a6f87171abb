package structs

import (
	"encoding/json"
	"fmt"
)

// The build state rules, in one place for every provider and the API's test
// fake: a build moves forward only (created → running → complete or failed,
// or straight from created to an end), and a finished build never changes
// its outcome again, whoever reports late (a build task the rack gave up on,
// a watch that raced the task's last report).

// ValidBuildStatus reports whether s is a build status.
func ValidBuildStatus(s string) bool {
	switch s {
	case BuildStatusCreated, BuildStatusRunning, BuildStatusComplete, BuildStatusFailed:
		return true
	}
	return false
}

// buildRank orders statuses: a build may only move to a higher rank.
func buildRank(s string) int {
	switch s {
	case BuildStatusCreated:
		return 0
	case BuildStatusRunning:
		return 1
	}
	return 2
}

// BuildCanMove reports whether a build in status from may take status to.
// Staying put is a move too (a repeated report), except between the two ends.
func BuildCanMove(from, to string) bool {
	if from == to {
		return true
	}
	if from == BuildStatusComplete || from == BuildStatusFailed {
		return false
	}
	return buildRank(to) > buildRank(from)
}

// Apply sets on b what a build task reports. An unknown status or a bad cache
// summary is an ErrInvalid error and changes nothing. A status the build
// cannot move to is ignored. Once the build has finished, its outcome (status,
// reason, release, start and end times) stays as it is; what describes it
// (logs, manifest, entrypoint, cache summary, the inputs and the build it
// reused) may still be filled in.
func (b *Build) Apply(opts BuildUpdateOptions) error {
	if opts.Status != nil && !ValidBuildStatus(*opts.Status) {
		return fmt.Errorf("build status %q: created, running, complete or failed expected: %w", *opts.Status, ErrInvalid)
	}
	var cache []BuildServiceSummary
	if opts.Cache != nil {
		if err := json.Unmarshal([]byte(*opts.Cache), &cache); err != nil {
			return fmt.Errorf("build cache summary: %v: %w", err, ErrInvalid)
		}
		b.Cache = cache
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&b.Entrypoint, opts.Entrypoint)
	set(&b.Logs, opts.Logs)
	set(&b.Manifest, opts.Manifest)
	opts.ApplyReuse(b)
	if b.Terminal() {
		return nil
	}
	if opts.Status != nil && BuildCanMove(b.Status, *opts.Status) {
		b.Status = *opts.Status
	}
	set(&b.Reason, opts.Reason)
	set(&b.Release, opts.Release)
	if opts.Started != nil {
		b.Started = *opts.Started
	}
	if opts.Ended != nil {
		b.Ended = *opts.Ended
	}
	return nil
}
