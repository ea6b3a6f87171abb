package cachepolicy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tagGrammar is the registry tag grammar ECR and the distribution spec share.
var tagGrammar = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func TestAppTag(t *testing.T) {
	long := strings.Repeat("a", 120)
	for _, tc := range []struct {
		name, app, service string
		want               string // "" checks only validity, stability and the hash form
	}{
		{"plain", "demo", "web", "demo.web.buildcache"},
		{"dashes", "my-app-2", "api-v1", "my-app-2.api-v1.buildcache"},
		{"one letter app", "m", "web", "m.web.buildcache"},
		{"too long", long, "web", ""},
		{"long service", "demo", strings.Repeat("s", 200), ""},
		{"invalid characters", "demo", "we b/x", ""},
		{"leading dash", "-x", "web", ""},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppTag(tc.app, tc.service)
			assert.Regexp(t, tagGrammar, got)
			assert.True(t, strings.HasSuffix(got, ".buildcache"), got)
			assert.Equal(t, got, AppTag(tc.app, tc.service), "stable")
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
				return
			}
			assert.Regexp(t, `-[0-9a-f]{16}\.buildcache$`, got, "short form ends with a hash")
		})
	}
	// Names that share a cut-off prefix still get different tags.
	assert.NotEqual(t, AppTag(long+"x", "web"), AppTag(long+"y", "web"))
	// App tags never collide with shared or legacy tags.
	assert.NotEqual(t, AppTag("_shared", "abc"), SharedTag("abc"))
	assert.NotEqual(t, LegacyTag("web"), AppTag("web", ""))
}

func TestSharedAndLegacyTags(t *testing.T) {
	assert.Equal(t, "_shared.0123abcd.buildcache", SharedTag("0123abcd"))
	assert.Regexp(t, tagGrammar, SharedTag(strings.Repeat("f", 200)))
	assert.Equal(t, "web.buildcache", LegacyTag("web"))
	assert.Empty(t, LegacyTag(strings.Repeat("w", 130)), "no valid legacy tag: none is read")
	assert.Empty(t, LegacyTag("bad name"))
}

func TestPlanRefs(t *testing.T) {
	tags := func(rs []Ref) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Tag+"="+r.Source)
		}
		return out
	}
	set := func(ts ...string) func(string) bool {
		return func(t string) bool {
			for _, x := range ts {
				if x == t {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name     string
		services []string
		keys     []string
		exists   func(string) bool
		from     []string
		source   string
	}{
		{"empty repository: nothing read", []string{"web"}, []string{"k1"}, set(), nil, ""},
		{"own ref: read alone", []string{"web"}, []string{"k1"}, set("demo.web.buildcache", "_shared.k1.buildcache"),
			[]string{"demo.web.buildcache=app"}, SourceApp},
		{"new app: the shared ref", []string{"web"}, []string{"k1", "k2"}, set("_shared.k2.buildcache", "other.web.buildcache"),
			[]string{"_shared.k2.buildcache=shared"}, SourceShared},
		{"upgrade: legacy until an own ref exists", []string{"web", "worker"}, nil, set("web.buildcache", "worker.buildcache"),
			[]string{"web.buildcache=legacy", "worker.buildcache=legacy"}, SourceLegacy},
		{"upgrade done: own refs only", []string{"web", "worker"}, nil, set("web.buildcache", "worker.buildcache", "demo.worker.buildcache"),
			[]string{"demo.worker.buildcache=app"}, SourceApp},
		{"new app on an upgraded rack: shared before legacy", []string{"web"}, []string{"k1"}, set("web.buildcache", "_shared.k1.buildcache"),
			[]string{"_shared.k1.buildcache=shared", "web.buildcache=legacy"}, SourceShared},
		{"upgrade: legacy alone", []string{"web"}, nil, set("web.buildcache"), []string{"web.buildcache=legacy"}, SourceLegacy},
		{"unknown tags: read the own refs", []string{"web"}, []string{"k1"}, nil,
			[]string{"demo.web.buildcache=app"}, SourceApp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := PlanRefs("demo", tc.services, tc.keys, tc.exists)
			assert.Equal(t, tc.from, tags(r.From))
			assert.Equal(t, tc.source, r.Source())
			var want []string
			for _, s := range tc.services {
				want = append(want, AppTag("demo", s)+"=app")
			}
			for _, k := range tc.keys {
				if tc.exists == nil || !tc.exists(SharedTag(k)) {
					want = append(want, SharedTag(k)+"=shared")
				}
			}
			assert.Equal(t, want, tags(r.To), "writes own refs and missing shared refs, never legacy")
		})
	}
}

// TestAppsNeverShareOwnRefs: apps with the same service name write different refs.
func TestAppsNeverShareOwnRefs(t *testing.T) {
	a := PlanRefs("alpha", []string{"web"}, nil, nil)
	b := PlanRefs("beta", []string{"web"}, nil, nil)
	require.Len(t, a.To, 1)
	require.Len(t, b.To, 1)
	assert.NotEqual(t, a.To[0].Tag, b.To[0].Tag)
}
