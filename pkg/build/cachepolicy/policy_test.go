package cachepolicy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/convox/rack/pkg/buildtask"
)

const repo = "123.dkr.ecr.us-east-1.amazonaws.com/rack-build-cache"

// webRefs are one app's own ref for web, read and written.
var webRefs = Refs{From: []Ref{{Tag: "demo.web.buildcache", Source: SourceApp}}, To: []Ref{{Tag: "demo.web.buildcache", Source: SourceApp}}}

func webFrom() []string {
	return []string{"--cache-from", "type=registry,ref=" + repo + ":demo.web.buildcache"}
}

func webTo() []string {
	return []string{"--cache-to", "type=registry,ref=" + repo + ":demo.web.buildcache,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true,compression=estargz"}
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestMatrix walks method × cache × repo × no-cache × generation × buildx and
// checks every flag set and warning against the rules of DESIGN.md.
func TestMatrix(t *testing.T) {
	kaniko := []string{"--cache=true", "--cache-repo=" + repo, "--cache-ttl=720h"}
	for _, method := range []buildtask.Method{buildtask.EC2, buildtask.Fargate} {
		for _, cache := range []bool{false, true} {
			for _, r := range []string{"", repo} {
				for _, noCache := range []bool{false, true} {
					for _, gen := range []int{1, 2} {
						for _, buildx := range []bool{false, true} {
							in := Input{Method: method, Cache: cache, Repo: r, NoCache: noCache, Generation: gen, Buildx: buildx, TTL: "30"}
							name := fmt.Sprintf("%s/cache=%v/repo=%v/nocache=%v/gen%d/buildx=%v", method, cache, r != "", noCache, gen, buildx)
							t.Run(name, func(t *testing.T) {
								p := Decide(in)
								eligible := cache && r != "" && gen == 2
								var wantBuildx, wantDocker, wantKaniko []string
								var wantWarn string
								switch method {
								case buildtask.EC2:
									switch {
									case !buildx:
										if noCache {
											wantDocker = []string{"--no-cache"}
										}
									case eligible && noCache:
										wantBuildx = cat([]string{"--no-cache"}, webTo())
									case eligible:
										wantBuildx = cat(webFrom(), webTo())
									case noCache:
										wantBuildx = []string{"--no-cache"}
									}
									if eligible && !buildx {
										wantWarn = "WARNING: docker buildx is not available"
									}
								case buildtask.Fargate:
									if eligible && !noCache {
										wantKaniko = kaniko
									}
								}
								switch {
								case cache && gen == 1:
									wantWarn = "generation 1 apps do not use the persistent build cache"
								case cache && r == "":
									wantWarn = "WARNING: BuildCache is on but no cache repository"
								}
								assert.Equal(t, wantBuildx, p.BuildxFlags(webRefs), "buildx flags")
								assert.Equal(t, wantDocker, p.DockerFlags(), "docker flags")
								assert.Equal(t, wantKaniko, p.KanikoFlags(), "kaniko flags")
								if wantWarn == "" {
									assert.Empty(t, p.Warnings)
								} else if assert.Len(t, p.Warnings, 1) {
									assert.True(t, strings.HasPrefix(p.Warnings[0], wantWarn), "warning %q, want one line starting %q", p.Warnings[0], wantWarn)
								}
								persistent := len(wantKaniko) > 0 || (method == buildtask.EC2 && buildx && eligible)
								assert.Equal(t, persistent, p.Persistent, "persistent")
								if persistent {
									assert.Equal(t, repo, p.Repo())
								} else {
									assert.Empty(t, p.Repo())
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestSharedBuildKeepsEveryServiceRef: one build for three services reads
// each service's own ref and exports once, to the first; the build tags the
// others to that manifest afterwards.
func TestSharedBuildKeepsEveryServiceRef(t *testing.T) {
	p := Decide(Input{Method: buildtask.EC2, Cache: true, Repo: repo, Generation: 2, Buildx: true})
	flags := strings.Join(p.BuildxFlags(PlanRefs("demo", []string{"web", "worker", "api"}, nil, nil)), " ")
	for _, s := range []string{"web", "worker", "api"} {
		assert.Contains(t, flags, "--cache-from type=registry,ref="+repo+":demo."+s+".buildcache")
	}
	assert.Equal(t, 1, strings.Count(flags, "--cache-to"), flags)
	assert.Contains(t, flags, "--cache-to type=registry,ref="+repo+":demo.web.buildcache,")
}

func TestSecretArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, nil},
		{[]string{"VERSION=1", "NODE_ENV=production"}, nil},
		{[]string{"NPM_TOKEN=abc", "VERSION=1"}, []string{"NPM_TOKEN"}},
		{[]string{"db_password=x", "API_KEY", "GIT_AUTH=y", "AWS_SECRET_ACCESS_KEY=z", "PASSWD=1", "MY_CREDENTIALS=2"},
			[]string{"API_KEY", "AWS_SECRET_ACCESS_KEY", "GIT_AUTH", "MY_CREDENTIALS", "PASSWD", "db_password"}},
		{[]string{"TOKEN=a", "TOKEN=b"}, []string{"TOKEN"}},
	} {
		assert.Equal(t, tc.want, SecretArgs(tc.args), "SecretArgs(%q)", tc.args)
	}
}

// TestSecretWarningOnlyWhenExporting: the warning names the arg, and only while the cache is exported.
func TestSecretWarningOnlyWhenExporting(t *testing.T) {
	args := []string{"NPM_TOKEN=s3cr3t", "VERSION=1"}
	for _, tc := range []struct {
		in   Input
		want int
	}{
		{Input{Method: buildtask.EC2, Cache: true, Repo: repo, Generation: 2, Buildx: true, BuildArgs: args}, 1},
		{Input{Method: buildtask.EC2, Cache: true, Repo: repo, Generation: 2, Buildx: true, NoCache: true, BuildArgs: args}, 1},
		{Input{Method: buildtask.Fargate, Cache: true, Repo: repo, Generation: 2, BuildArgs: args}, 1},
		{Input{Method: buildtask.Fargate, Cache: true, Repo: repo, Generation: 2, NoCache: true, BuildArgs: args}, 0},
		{Input{Method: buildtask.EC2, Cache: false, Repo: repo, Generation: 2, Buildx: true, BuildArgs: args}, 0},
	} {
		p := Decide(tc.in)
		n := 0
		for _, w := range p.Warnings {
			if strings.HasPrefix(w, "WARNING: build arg NPM_TOKEN ") {
				n++
			}
			assert.NotContains(t, w, "s3cr3t", "a warning prints the secret value")
		}
		assert.Equal(t, tc.want, n, "%+v: secret warnings %q", tc.in, p.Warnings)
	}
}
