package cachepolicy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const repo = "123.dkr.ecr.us-east-1.amazonaws.com/rack-build-cache"

func webFrom() []string {
	return []string{"--cache-from", "type=registry,ref=" + repo + ":web.buildcache"}
}

func webTo() []string {
	return []string{"--cache-to", "type=registry,ref=" + repo + ":web.buildcache,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true,compression=estargz"}
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
	for _, method := range []string{MethodEC2, MethodFargate} {
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
								case MethodEC2:
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
								case MethodFargate:
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
								if got := p.BuildxFlags("web"); !reflect.DeepEqual(got, wantBuildx) {
									t.Errorf("buildx flags = %q, want %q", got, wantBuildx)
								}
								if got := p.DockerFlags(); !reflect.DeepEqual(got, wantDocker) {
									t.Errorf("docker flags = %q, want %q", got, wantDocker)
								}
								if got := p.KanikoFlags(); !reflect.DeepEqual(got, wantKaniko) {
									t.Errorf("kaniko flags = %q, want %q", got, wantKaniko)
								}
								if wantWarn == "" && len(p.Warnings) != 0 {
									t.Errorf("warnings = %q, want none", p.Warnings)
								}
								if wantWarn != "" && (len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0], wantWarn)) {
									t.Errorf("warnings = %q, want one line starting %q", p.Warnings, wantWarn)
								}
								if p.Persistent != (len(wantKaniko) > 0 || (method == MethodEC2 && buildx && eligible)) {
									t.Errorf("persistent = %v", p.Persistent)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestSharedBuildKeepsEveryServiceRef: one build for three services reads and writes three refs.
func TestSharedBuildKeepsEveryServiceRef(t *testing.T) {
	p := Decide(Input{Method: MethodEC2, Cache: true, Repo: repo, Generation: 2, Buildx: true})
	flags := strings.Join(p.BuildxFlags("web", "worker", "api"), " ")
	for _, s := range []string{"web", "worker", "api"} {
		if strings.Count(flags, repo+":"+s+".buildcache") != 2 {
			t.Errorf("flags %q lack from+to for %s", flags, s)
		}
	}
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
		if got := SecretArgs(tc.args); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SecretArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestSecretWarningOnlyWhenExporting: the warning names the arg, and only while the cache is exported.
func TestSecretWarningOnlyWhenExporting(t *testing.T) {
	args := []string{"NPM_TOKEN=s3cr3t", "VERSION=1"}
	for _, tc := range []struct {
		in   Input
		want int
	}{
		{Input{Method: MethodEC2, Cache: true, Repo: repo, Generation: 2, Buildx: true, BuildArgs: args}, 1},
		{Input{Method: MethodEC2, Cache: true, Repo: repo, Generation: 2, Buildx: true, NoCache: true, BuildArgs: args}, 1},
		{Input{Method: MethodFargate, Cache: true, Repo: repo, Generation: 2, BuildArgs: args}, 1},
		{Input{Method: MethodFargate, Cache: true, Repo: repo, Generation: 2, NoCache: true, BuildArgs: args}, 0},
		{Input{Method: MethodEC2, Cache: false, Repo: repo, Generation: 2, Buildx: true, BuildArgs: args}, 0},
	} {
		p := Decide(tc.in)
		n := 0
		for _, w := range p.Warnings {
			if strings.HasPrefix(w, "WARNING: build arg NPM_TOKEN ") {
				n++
			}
			if strings.Contains(w, "s3cr3t") {
				t.Errorf("warning prints the secret value: %q", w)
			}
		}
		if n != tc.want {
			t.Errorf("%+v: %d secret warnings, want %d (%q)", tc.in, n, tc.want, p.Warnings)
		}
	}
}

func TestNormalizeTTL(t *testing.T) {
	for in, want := range map[string]string{"": "", "30": "720h", "1": "24h", "365": "8760h", "720h": "720h0m0s", " 14 ": "336h"} {
		got, err := NormalizeTTL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeTTL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "-3", "abc", "-5h"} {
		if got, err := NormalizeTTL(bad); err == nil {
			t.Errorf("NormalizeTTL(%q) = %q, want an error", bad, got)
		}
	}
}
