package build

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/build/cachepolicy"
	"github.com/convox/rack/pkg/structs"
)

// buildOnFreshBuilder runs one ec2 build of url on a brand-new BuildKit.
func (h *harness) buildOnFreshBuilder(url string, edit func(*Options)) (string, structs.BuildServiceSummary) {
	h.t.Helper()
	bk := testenv.StartBuildKit(h.t, h.reg)
	defer bk.Stop()
	opts := h.opts(url)
	opts.BuildArgs = []string{"DEPS_WORK_MB=50"}
	opts.Engine.DockerConfig = withBuildx(h.t)
	opts.Engine.BuildKitHost = bk.Addr
	if edit != nil {
		edit(&opts)
	}
	log, b := h.run(opts, false)
	require.Equal(h.t, structs.BuildStatusComplete, b.Status, log)
	return log, summary(h.t, b, "web")
}

// copyRef writes the manifest (and blobs) of src under dst.
func (h *harness) copyRef(src, dst string) {
	h.t.Helper()
	from, err := name.ParseReference(src, name.Insecure)
	require.NoError(h.t, err)
	to, err := name.ParseReference(dst, name.Insecure)
	require.NoError(h.t, err)
	desc, err := remote.Get(from, remote.WithAuth(h.reg.Auth()))
	require.NoError(h.t, err)
	img, err := desc.Image()
	require.NoError(h.t, err)
	require.NoError(h.t, remote.Write(to, img, remote.WithAuth(h.reg.Auth())))
}

// TestEC2UpgradeKeepsTheLegacyCacheWarm: a rack from before per-app refs holds
// only {service}.buildcache; the first build after the upgrade reads it and is
// fully cached, then writes the app's own ref, which the next build reads.
func TestEC2UpgradeKeepsTheLegacyCacheWarm(t *testing.T) {
	h := newHarness(t)
	url := h.upload("examples/cached-deps")
	_, cold := h.buildOnFreshBuilder(url, nil)
	require.Zero(t, cold.Cached)

	// The same cache, as an older rack named it, alone in a new cache repository.
	legacyRepo := h.reg.Host + "/old-rack-build-cache"
	h.copyRef(h.cache+":"+cachepolicy.AppTag(h.app, "web"), legacyRepo+":web.buildcache")
	require.Equal(t, []string{"web.buildcache"}, h.tags(legacyRepo))

	use := func(o *Options) { o.CacheRepo = legacyRepo }
	log, first := h.buildOnFreshBuilder(url, use)
	assert.Positive(t, first.Steps)
	assert.Equal(t, first.Steps, first.Cached, "first build after the upgrade:\n%s", log)
	assert.Equal(t, structs.CacheSourceLegacy, first.CacheSource)
	assert.Contains(t, log, "importing cache manifest from "+legacyRepo+":web.buildcache")
	assert.Contains(t, h.tags(legacyRepo), cachepolicy.AppTag(h.app, "web"), "the app's own ref is written")

	log, second := h.buildOnFreshBuilder(url, use)
	assert.Equal(t, second.Steps, second.Cached, log)
	assert.Equal(t, structs.CacheSourceApp, second.CacheSource)
	assert.NotContains(t, log, legacyRepo+":web.buildcache", "the legacy ref is read only until the app has its own")
}

// TestEC2LongAndOddNamesBuild: an app and service whose ref would be too long
// or invalid as a tag still builds and caches, under a valid short form.
func TestEC2LongAndOddNamesBuild(t *testing.T) {
	h := newHarness(t)
	h.app = "a" + strings.Repeat("-long", 24) // 121 characters: with ".web.buildcache", past 128
	h.push = h.reg.Host + "/" + h.app
	url := h.upload("examples/cached-deps")
	_, cold := h.buildOnFreshBuilder(url, nil)
	require.Zero(t, cold.Cached)
	tag := cachepolicy.AppTag(h.app, "web")
	assert.LessOrEqual(t, len(tag), 128)
	assert.Contains(t, h.tags(h.cache), tag)
	log, warm := h.buildOnFreshBuilder(url, nil)
	assert.Equal(t, warm.Steps, warm.Cached, log)
	assert.Equal(t, structs.CacheSourceApp, warm.CacheSource)
}
