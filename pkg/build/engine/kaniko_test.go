package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestInsecureFlagsOnlyLoopback: kaniko is told to reach a registry over
// plain http only for loopback hosts, one flag per host, and never with the
// global --insecure or --insecure-pull that would cover ECR and S3 too.
func TestInsecureFlagsOnlyLoopback(t *testing.T) {
	ecr := "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	for _, c := range []struct {
		name                  string
		mirror, repo, guarded string
		req                   Request
		want                  []string
	}{
		{"local rack", "127.0.0.1:5000", "127.0.0.1:5000/rack-build-cache", "127.0.0.1:41234/rack-build-cache",
			Request{Tags: []string{"127.0.0.1:5000/app:web.B1"}, Bases: []string{"busybox:latest", "localhost:5001/base:1"}},
			[]string{"--insecure-registry", "127.0.0.1:5000", "--insecure-registry", "127.0.0.1:41234", "--insecure-registry", "localhost:5001"}},
		{"aws behind the guard", "", ecr + "/rack-build-cache", "127.0.0.1:41234/rack-build-cache",
			Request{Tags: []string{ecr + "/rack/app:web.B1"}, Bases: []string{"debian:bookworm-slim", "public.ecr.aws/docker/library/node:20"}},
			[]string{"--insecure-registry", "127.0.0.1:41234"}},
		{"aws without the cache", "", "", "",
			Request{Tags: []string{ecr + "/rack/app:web.B1"}, Bases: []string{"debian:bookworm-slim"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := insecureFlags(c.mirror, c.repo, c.guarded, c.req)
			assert.Equal(t, c.want, got)
			assert.NotContains(t, got, "--insecure")
			assert.NotContains(t, got, "--insecure-pull")
		})
	}
}
