package structs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildCanMove(t *testing.T) {
	all := []string{BuildStatusCreated, BuildStatusRunning, BuildStatusComplete, BuildStatusFailed}
	allowed := map[[2]string]bool{
		{BuildStatusCreated, BuildStatusCreated}: true, {BuildStatusCreated, BuildStatusRunning}: true,
		{BuildStatusCreated, BuildStatusComplete}: true, {BuildStatusCreated, BuildStatusFailed}: true,
		{BuildStatusRunning, BuildStatusRunning}: true, {BuildStatusRunning, BuildStatusComplete}: true,
		{BuildStatusRunning, BuildStatusFailed}:    true,
		{BuildStatusComplete, BuildStatusComplete}: true, {BuildStatusFailed, BuildStatusFailed}: true,
	}
	for _, from := range all {
		for _, to := range all {
			assert.Equal(t, allowed[[2]string{from, to}], BuildCanMove(from, to), "%s -> %s", from, to)
		}
	}
}

func TestBuildApply(t *testing.T) {
	ptr := func(s string) *string { return &s }
	ended := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	b := Build{Status: BuildStatusRunning}
	require.NoError(t, b.Apply(BuildUpdateOptions{Status: ptr(BuildStatusFailed), Reason: ptr("task died"), Ended: &ended}))
	assert.Equal(t, BuildStatusFailed, b.Status)

	// A late report from the task neither revives nor rewrites a finished build.
	late := ended.Add(time.Minute)
	require.NoError(t, b.Apply(BuildUpdateOptions{Status: ptr(BuildStatusComplete), Reason: ptr(""), Release: ptr("RLATE"),
		Ended: &late, Logs: ptr("object://app/build/B/logs"), Cache: ptr(`[{"service":"web","steps":3}]`)}))
	assert.Equal(t, BuildStatusFailed, b.Status)
	assert.Equal(t, "task died", b.Reason)
	assert.Empty(t, b.Release)
	assert.Equal(t, ended, b.Ended)
	assert.Equal(t, "object://app/build/B/logs", b.Logs, "what describes a finished build may still be filled in")
	assert.Len(t, b.Cache, 1)

	// Backwards is ignored; nonsense is refused and changes nothing.
	r := Build{Status: BuildStatusRunning}
	require.NoError(t, r.Apply(BuildUpdateOptions{Status: ptr(BuildStatusCreated)}))
	assert.Equal(t, BuildStatusRunning, r.Status)
	err := r.Apply(BuildUpdateOptions{Status: ptr("done"), Logs: ptr("x")})
	require.ErrorIs(t, err, ErrInvalid)
	assert.Empty(t, r.Logs)
	require.ErrorIs(t, r.Apply(BuildUpdateOptions{Cache: ptr("{")}), ErrInvalid)
}
