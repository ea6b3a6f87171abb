package build

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFaultWatch tells a cold cache (no ref yet) from a cache fault.
func TestFaultWatch(t *testing.T) {
	const repo = "127.0.0.1:5000/rack-build-cache"
	tests := []struct {
		name  string
		lines []string
		fault bool
	}{
		{"cold cache", []string{"#7 importing cache manifest from " + repo + ":web.buildcache", "#7 ERROR: failed to configure registry cache importer: " + repo + ":web.buildcache: not found"}, false},
		{"refused", []string{"#7 ERROR: failed to configure registry cache importer: failed to do request: Head \"http://127.0.0.1:5000/v2/rack-build-cache/manifests/web.buildcache\": dial tcp 127.0.0.1:5000: connect: connection refused"}, true},
		{"server error", []string{"#15 ERROR: error writing layer blob: unexpected status from PUT request to http://127.0.0.1:5000/v2/rack-build-cache/blobs/uploads/: 500 Internal Server Error"}, true},
		{"other registry", []string{"#9 ERROR: failed to push 127.0.0.1:6000/app:web.B1: 500 Internal Server Error"}, false},
		{"error on a later line", []string{"#7 importing cache manifest from " + repo + ":web.buildcache", "#8 [web 1/3] FROM busybox", "#7 ERROR: invalid character '!' looking for beginning of value"}, true},
		{"error of another step", []string{"#7 importing cache manifest from " + repo + ":web.buildcache", "#7 DONE 0.1s", "#9 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1"}, false},
		{"app repo on the cache host", []string{"#16 ERROR: failed to push 127.0.0.1:5000/myapp:web.B002: unexpected status from PUT request to http://127.0.0.1:5000/v2/myapp/blobs/uploads/: 500 Internal Server Error"}, false},
		{"repo with a longer name", []string{"#9 ERROR: failed to push 127.0.0.1:5000/rack-build-cache-other:web.B1: 500 Internal Server Error"}, false},
		{"kaniko cache fault", []string{"error building image: GET http://127.0.0.1:5000/v2/rack-build-cache/manifests/abc: 500 Internal Server Error"}, true},
		{"healthy", []string{"#15 exporting cache to registry", "#15 writing cache image manifest sha256:abc done"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFaultWatch(repo)
			for _, l := range tt.lines {
				fmt.Fprintln(w, l)
			}
			assert.Equal(t, tt.fault, w.Fault() != "", "fault = %q, want a fault: %v", w.Fault(), tt.fault)
		})
	}
}

// TestFaultWatchKanikoMiss: kaniko's "No cached layer found" is a miss when
// the ref is not there and a fault when reading it again fails otherwise;
// a hit, or a watch without a check, reads nothing.
func TestFaultWatchKanikoMiss(t *testing.T) {
	const repo = "127.0.0.1:5000/rack-build-cache"
	ref := repo + ":0123abcd"
	checking := "\x1b[36mINFO\x1b[0m[0001] Checking for cached layer " + ref + "..."
	missed := "\x1b[36mINFO\x1b[0m[0001] No cached layer found for cmd RUN echo built > built.txt"
	hit := "\x1b[36mINFO\x1b[0m[0001] Using caching version of cmd: RUN echo built > built.txt"
	tests := []struct {
		name   string
		lines  []string
		check  error
		reads  int
		fault  bool
		noWire bool
	}{
		{"missing layer", []string{checking, missed}, nil, 1, false, false},
		{"registry failed", []string{checking, missed}, errors.New("500 Internal Server Error"), 1, true, false},
		{"hit", []string{checking, hit}, errors.New("never read"), 0, false, false},
		{"other repository", []string{"INFO[0001] Checking for cached layer 127.0.0.1:5000/other:0123...", missed}, errors.New("never read"), 0, false, false},
		{"no persistent cache", []string{checking, missed}, errors.New("never read"), 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFaultWatch(repo)
			var reads []string
			if !tt.noWire {
				w.check = func(r string) error { reads = append(reads, r); return tt.check }
			}
			for _, l := range tt.lines {
				fmt.Fprintln(w, l)
			}
			fault := w.Fault()
			assert.Equal(t, tt.fault, fault != "", "fault = %q, want a fault: %v", fault, tt.fault)
			if tt.fault {
				assert.Contains(t, fault, ref, "fault does not name the ref")
			}
			if assert.Len(t, reads, tt.reads, "read again %q, want %d reads of %s", reads, tt.reads, ref) && tt.reads == 1 {
				assert.Equal(t, ref, reads[0], "read again")
			}
		})
	}
}
