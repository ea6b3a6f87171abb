package engine

import (
	"io"
	"strings"
	"testing"
)

func count(rule func(string, *counter), text string) Result {
	c := newCounter(io.Discard, rule)
	// odd chunking: lines split across writes still count once
	for len(text) > 0 {
		n := min(7, len(text))
		c.Write([]byte(text[:n]))
		text = text[n:]
	}
	return c.Result()
}

func TestCountBuildKit(t *testing.T) {
	log := `#5 [1/3] FROM docker.io/library/busybox:latest@sha256:44
#5 DONE 0.0s
#7 [deps 2/3] RUN echo one > /one
#7 CACHED
#8 [3/3] COPY --from=deps /one /one
#8 DONE 0.1s
#8 [3/3] COPY --from=deps /one /one
#9 [internal] load build context
#10 exporting cache to registry`
	if got := count(buildkitRule, log); got != (Result{Steps: 2, Cached: 1}) {
		t.Errorf("buildkit = %+v", got)
	}
}

func TestCountDocker(t *testing.T) {
	log := "Step 1/3 : FROM busybox\n ---> abc\nStep 2/3 : RUN echo\n ---> Using cache\n ---> def\nStep 3/3 : COPY . .\n ---> 123\n"
	if got := count(dockerRule, log); got != (Result{Steps: 2, Cached: 1}) {
		t.Errorf("docker = %+v", got)
	}
}

func TestRefHostAndLoopback(t *testing.T) {
	for ref, want := range map[string]string{"busybox": "", "library/debian:12": "", "127.0.0.1:5000/app:web.B": "127.0.0.1:5000", "localhost/x": "localhost", "123.dkr.ecr.us-east-1.amazonaws.com/r": "123.dkr.ecr.us-east-1.amazonaws.com"} {
		if got := RefHost(ref); got != want {
			t.Errorf("RefHost(%q) = %q", ref, got)
		}
	}
	if got := strings.Join(loopbackHosts("127.0.0.1:5000/a", "127.0.0.1:5000/b", "127.0.0.1:6000", "ecr.example.com/x", "[::1]:5000/y"), ","); got != "127.0.0.1:5000,127.0.0.1:6000,[::1]:5000" {
		t.Errorf("loopbackHosts = %s", got)
	}
}

func TestCountKaniko(t *testing.T) {
	log := "\x1b[36mINFO\x1b[0m[0000] Using caching version of cmd: RUN make\n" +
		"\x1b[36mINFO\x1b[0m[0007] ARG DEPS=1\n" +
		"\x1b[36mINFO\x1b[0m[0007] WORKDIR /app\n" +
		"\x1b[36mINFO\x1b[0m[0007] COPY deps.txt .\n" +
		"\x1b[36mINFO\x1b[0m[0007] RUN make\n" +
		"\x1b[36mINFO\x1b[0m[0007] Found cached layer, extracting to filesystem\n" +
		"\x1b[36mINFO\x1b[0m[0007] CMD [\"cat\"]\n"
	if got := count(kanikoRule, log); got != (Result{Steps: 3, Cached: 1}) {
		t.Errorf("kaniko = %+v", got)
	}
}
