package dockerfile

import (
	"reflect"
	"testing"
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
	want := []Stage{{"deps", "${BASE}"}, {"development", "busybox"}, {"", "deps"}, {"", "scratch"}}
	if !reflect.DeepEqual(f.Stages, want) {
		t.Errorf("stages = %+v", f.Stages)
	}
	if !f.HasStage("development") || f.HasStage("production") {
		t.Error("HasStage wrong")
	}
	if got := f.FilterArgs([]string{"NPM_TOKEN=x", "OTHER=y", "VERSION=2", "BASE=busybox"}); !reflect.DeepEqual(got, []string{"NPM_TOKEN=x", "VERSION=2", "BASE=busybox"}) {
		t.Errorf("FilterArgs = %q", got)
	}
	if got := f.Bases(nil); !reflect.DeepEqual(got, []string{"debian:bookworm-slim", "busybox"}) {
		t.Errorf("Bases = %q", got)
	}
	if got := f.Bases([]string{"BASE=alpine:3"}); got[0] != "alpine:3" {
		t.Errorf("Bases with arg = %q", got)
	}
}
