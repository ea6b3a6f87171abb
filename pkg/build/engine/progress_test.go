package engine

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
	assert.Equal(t, Result{Steps: 2, Cached: 1}, count(buildkitRule, log), "buildkit")
}

// After a source change, the dependency step's result is pulled from the
// registry cache and unpacked for the changed step on top of it: a cache hit
// that prints its blobs instead of CACHED. The changed steps ran.
func TestCountBuildKitLoadedFromCache(t *testing.T) {
	blob := "4b1fea0a18343b24cb2311b45c4672e17d01492885b9d7a9b5f89513a9448ff4"
	log := `#5 [1/5] FROM docker.io/library/busybox:latest@sha256:06ac04a8ddacde4522bd1bfe618db2802a298f36c5ff004fb782192279e3eac6
#5 resolve docker.io/library/busybox:latest@sha256:06ac04a8ddacde4522bd1bfe618db2802a298f36c5ff004fb782192279e3eac6 done
#5 DONE 0.0s
#8 [2/5] WORKDIR /app
#8 CACHED
#9 [3/5] RUN head -c 6000000000 /dev/zero | sha256sum > deps.sum
#9 sha256:` + blob + ` 31.47MB / 31.47MB 0.1s done
#9 extracting sha256:` + blob + `
#9 extracting sha256:` + blob + ` 0.2s done
#9 DONE 0.3s
#10 [4/5] COPY src/ ./src/
#10 DONE 0.1s
#11 [5/5] RUN cat src/* deps.sum | sha256sum > build.sum
#11 DONE 0.0s
#12 exporting cache to registry
#12 writing layer sha256:` + blob + ` 0.0s done`
	assert.Equal(t, Result{Steps: 4, Cached: 2}, count(buildkitRule, log), "buildkit, want 4 steps, 2 cached")
}

func TestCountDocker(t *testing.T) {
	log := "Step 1/3 : FROM busybox\n ---> abc\nStep 2/3 : RUN echo\n ---> Using cache\n ---> def\nStep 3/3 : COPY . .\n ---> 123\n"
	assert.Equal(t, Result{Steps: 2, Cached: 1}, count(dockerRule, log), "docker")
}

func TestRefHostAndLoopback(t *testing.T) {
	for ref, want := range map[string]string{"busybox": "", "library/debian:12": "", "127.0.0.1:5000/app:web.B": "127.0.0.1:5000", "localhost/x": "localhost", "123.dkr.ecr.us-east-1.amazonaws.com/r": "123.dkr.ecr.us-east-1.amazonaws.com"} {
		assert.Equal(t, want, RefHost(ref), "RefHost(%q)", ref)
	}
	assert.Equal(t, "127.0.0.1:5000,127.0.0.1:6000,[::1]:5000",
		strings.Join(loopbackHosts("127.0.0.1:5000/a", "127.0.0.1:5000/b", "127.0.0.1:6000", "ecr.example.com/x", "[::1]:5000/y"), ","), "loopbackHosts")
}

func TestCountKaniko(t *testing.T) {
	log := "\x1b[36mINFO\x1b[0m[0000] Using caching version of cmd: RUN make\n" +
		"\x1b[36mINFO\x1b[0m[0007] ARG DEPS=1\n" +
		"\x1b[36mINFO\x1b[0m[0007] WORKDIR /app\n" +
		"\x1b[36mINFO\x1b[0m[0007] COPY deps.txt .\n" +
		"\x1b[36mINFO\x1b[0m[0007] RUN make\n" +
		"\x1b[36mINFO\x1b[0m[0007] Found cached layer, extracting to filesystem\n" +
		"\x1b[36mINFO\x1b[0m[0007] CMD [\"cat\"]\n"
	assert.Equal(t, Result{Steps: 2, Cached: 1}, count(kanikoRule, log), "kaniko")

	// kaniko prints an instruction as written: a tab after it, lower case
	written := "\x1b[36mINFO\x1b[0m[0000] COPY\tsrc.txt /src.txt\n" +
		"\x1b[36mINFO\x1b[0m[0000] run\tmake\n" +
		"\x1b[36mINFO\x1b[0m[0000] Running: [/bin/sh -c make]\n"
	assert.Equal(t, Result{Steps: 2}, count(kanikoRule, written), "kaniko, as written")
}
