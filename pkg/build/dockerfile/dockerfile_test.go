package dockerfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `# syntax=docker/dockerfile:1
ARG BASE=debian:bookworm-slim
ARG UNUSED
FROM --platform=linux/amd64 ${BASE} AS deps
ARG NPM_TOKEN VERSION=1
RUN echo one \
    two
FROM busybox as Development
COPY --from=deps /x /x
FROM deps
from scratch
`

func TestParse(t *testing.T) {
	f := Parse([]byte(sample))
	want := []Stage{
		{Name: "deps", From: "${BASE}", Lines: []string{"ARG NPM_TOKEN VERSION=1", "RUN echo one  two"}},
		{Name: "development", From: "busybox", Lines: []string{"COPY --from=deps /x /x"}},
		{From: "deps"},
		{From: "scratch"},
	}
	assert.Equal(t, want, f.Stages)
	assert.Equal(t, []string{"ARG BASE=debian:bookworm-slim", "ARG UNUSED"}, f.Preamble)
	assert.True(t, f.HasStage("development"))
	assert.False(t, f.HasStage("production"))
	assert.Equal(t, []string{"NPM_TOKEN=x", "VERSION=2", "BASE=busybox"}, f.FilterArgs([]string{"NPM_TOKEN=x", "OTHER=y", "VERSION=2", "BASE=busybox"}))
	assert.Equal(t, []string{"debian:bookworm-slim", "busybox"}, f.Bases(nil))
	got := f.Bases([]string{"BASE=alpine:3"})
	require.NotEmpty(t, got)
	assert.Equal(t, "alpine:3", got[0])
}
