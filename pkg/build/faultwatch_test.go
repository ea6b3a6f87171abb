package build

import (
	"fmt"
	"testing"
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
			if got := w.Fault() != ""; got != tt.fault {
				t.Errorf("fault = %q, want a fault: %v", w.Fault(), tt.fault)
			}
		})
	}
}
