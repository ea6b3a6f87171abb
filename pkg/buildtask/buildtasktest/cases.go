// Package buildtasktest is the one table of rack settings both providers'
// contract tests walk: what each combination must tell cmd/build.
package buildtasktest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
)

// Case is one combination of method, BuildCache, cleanup and app generation.
type Case struct {
	Name string
	// Params are the rack parameters the provider reads.
	Params map[string]string
	// Generation is the app's generation as the rack stores it.
	Generation string
	// Want holds the settings every provider must send for it.
	Want buildtask.Spec
}

// Cases are every combination of method × BuildCache × cleanup × generation.
func Cases() []Case {
	var out []Case
	for _, method := range buildtask.Methods {
		for _, cache := range []string{"No", "Yes"} {
			for _, cleanup := range []string{"No", "Yes"} {
				for _, gen := range []int{1, 2} {
					want := buildtask.Spec{Method: method, Cache: cache == "Yes", Generation: gen, CacheTTL: buildtask.NoExpiry, Manifest: "convox.yml"}
					if cleanup == "Yes" {
						want.CacheTTL = "336h" // 14 days
					}
					if gen == 1 {
						want.Manifest = "docker-compose.yml"
					}
					out = append(out, Case{
						Name:       fmt.Sprintf("%s/BuildCache=%s/Cleanup=%s/gen%d", method, cache, cleanup, gen),
						Params:     map[string]string{"BuildMethod": string(method), "BuildCache": cache, "BuildCacheCleanup": cleanup, "BuildCacheRetentionDays": "14"},
						Generation: fmt.Sprint(gen),
						Want:       want,
					})
				}
			}
		}
	}
	return out
}

// Check asserts that got carries c's settings, with the cache repository
// exactly while BuildCache is on, and that cmd/build parses it back whole
// from its environment and arguments.
func Check(t *testing.T, c Case, got buildtask.Spec) {
	t.Helper()
	assert.Equal(t, c.Want.Method, got.Method, "method")
	assert.Equal(t, c.Want.Cache, got.Cache, "BUILD_CACHE is the rack's BuildCache, for every generation")
	assert.Equal(t, c.Want.CacheTTL, got.CacheTTL, "cache ttl")
	assert.Equal(t, c.Want.Generation, got.Generation, "generation")
	assert.Equal(t, c.Want.Manifest, got.Manifest, "manifest")
	assert.Equal(t, c.Want.Cache, got.CacheRepo != "", "cache repository %q", got.CacheRepo)
	RoundTrip(t, got)
}

// RoundTrip asserts cmd/build's parse of spec's environment and arguments is spec.
func RoundTrip(t *testing.T, spec buildtask.Spec) {
	t.Helper()
	vars := spec.Vars()
	parsed, err := buildtask.Parse(spec.Args(), func(k string) string { return vars[k] })
	require.NoError(t, err)
	assert.Equal(t, spec, parsed)
}
