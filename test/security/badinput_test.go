package security

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refused checks that err is a clear refusal: an error naming every want.
func refused(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if !assert.Error(t, err, "%s: accepted", what) {
		return
	}
	for _, w := range want {
		assert.Contains(t, strings.ToLower(err.Error()), strings.ToLower(w), "%s: error %q does not mention %q", what, err, w)
	}
}

// TestBadInputChangesNothing: each bad request to a real local rack is
// refused with an error that names the problem, and the rack is as before.
func TestBadInputChangesNothing(t *testing.T) {
	r := rackenv.Start(t, rackenv.Options{NoBuilds: true, MaxUpload: 64 << 10})
	c := r.Client
	_, err := c.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	_, err = c.ObjectStore("app1", "src/x.tgz", strings.NewReader("x"), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	before := snapshot(t, r)

	for _, tc := range []struct {
		params map[string]string
		want   []string
	}{
		{map[string]string{"BuildCacheRetentionDays": "0"}, []string{"BuildCacheRetentionDays"}},
		{map[string]string{"BuildCacheRetentionDays": "366"}, []string{"BuildCacheRetentionDays"}},
		{map[string]string{"BuildCacheRetentionDays": "ten"}, []string{"BuildCacheRetentionDays"}},
		{map[string]string{"BuildCache": "Maybe"}, []string{"BuildCache", "Maybe"}},
		{map[string]string{"NoSuchParameter": "1"}, []string{"NoSuchParameter"}},
		{map[string]string{"BuildCache": "Yes", "BuildCacheRetentionDays": "-1"}, []string{"BuildCacheRetentionDays"}},
		{map[string]string{"BuildMethod": "laptop"}, []string{"BuildMethod"}},
	} {
		err := c.SystemUpdate(structs.SystemUpdateOptions{Parameters: tc.params})
		refused(t, "rack params "+strings.Join(keys(tc.params), ","), err, tc.want...)
	}

	for _, args := range [][]string{{"NOEQUALS"}, {"GOOD=1", "BAD"}, {"=value"}} {
		_, err := c.BuildCreate("app1", "object://app1/src/x.tgz", structs.BuildCreateOptions{BuildArgs: args})
		refused(t, "build args "+strings.Join(args, " "), err, "build arg")
	}

	big := bytes.Repeat([]byte("x"), 128<<10)
	_, err = c.ObjectStore("app1", "tmp/big.tgz", bytes.NewReader(big), structs.ObjectStoreOptions{})
	refused(t, "upload over the limit", err, "too large", "65536")
	ok, err := r.ObjectExists("app1", "tmp/big.tgz")
	require.NoError(t, err)
	assert.False(t, ok, "the refused upload was stored")
	noise := make([]byte, 128<<10)
	rand.Read(noise)
	_, err = c.BuildImport("app1", bytes.NewReader(archive(t, map[string]string{
		"build.json": `{"id":"BX","app":"app1"}`, "images/web.tar": string(noise)})))
	refused(t, "import over the limit", err, "too large")

	for what, tc := range map[string]struct {
		entries map[string]string
		want    string
	}{
		"a foreign path":    {map[string]string{"build.json": `{"id":"BX","app":"app1"}`, "../../evil": "x"}, "../../evil"},
		"an absolute path":  {map[string]string{"build.json": `{"id":"BX","app":"app1"}`, "/etc/evil": "x"}, "/etc/evil"},
		"a stray file":      {map[string]string{"build.json": `{"id":"BX","app":"app1"}`, "notes.txt": "x"}, "notes.txt"},
		"no build.json":     {map[string]string{"images/web.tar": "x"}, "build.json"},
		"broken build.json": {map[string]string{"build.json": `{"id":`}, "build.json"},
	} {
		_, err := c.BuildImport("app1", bytes.NewReader(archive(t, tc.entries)))
		refused(t, "import with "+what, err, tc.want)
	}
	_, err = c.BuildImport("app1", strings.NewReader("not a gzip stream"))
	refused(t, "import of junk", err, "archive")

	after := snapshot(t, r)
	assert.Equal(t, before, after, "bad input changed the rack:\nbefore %s\nafter  %s", before, after)
}

// TestBadSourceFailsBuildClearly: a convox.yml with unknown keys, a missing
// Dockerfile and a Dockerfile outside the source each fail the build with a
// reason naming the problem, their logs kept, and no release or image.
func TestBadSourceFailsBuildClearly(t *testing.T) {
	r := rackenv.Start(t, rackenv.Options{})
	_, err := r.Client.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	docker := "FROM busybox:latest\nRUN true\n"
	for what, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"unknown top-level key": {map[string]string{"convox.yml": "services:\n  web:\n    build: .\nfrobnicate: yes\n", "Dockerfile": docker}, []string{"frobnicate"}},
		"unknown service key":   {map[string]string{"convox.yml": "services:\n  web:\n    build: .\n    colour: blue\n", "Dockerfile": docker}, []string{"colour", "web"}},
		"missing Dockerfile":    {map[string]string{"convox.yml": "services:\n  web:\n    build: .\n"}, []string{"Dockerfile"}},
		"Dockerfile outside":    {map[string]string{"convox.yml": "services:\n  web:\n    build:\n      path: .\n      manifest: ../../../etc/hostname\n", "Dockerfile": docker}, []string{"outside"}},
		"no convox.yml":         {map[string]string{"Dockerfile": docker}, []string{"convox.yml"}},
	} {
		b, err := r.Client.BuildCreate("app1", r.Upload(t, "app1", rackenv.App(t, tc.files)), structs.BuildCreateOptions{})
		if err != nil {
			// refusing before the build starts is fine too, if clear
			refused(t, what, err, tc.want...)
			continue
		}
		b, logs := r.Wait(t, "app1", b.Id, 3*time.Minute)
		if !assert.Equal(t, structs.BuildStatusFailed, b.Status, "%s: build %s", what, b.Status) {
			continue
		}
		for _, w := range tc.want {
			assert.Contains(t, b.Reason, w, "%s: reason %q does not mention %q", what, b.Reason, w)
		}
		assert.Contains(t, logs, "ERROR", "%s: logs lack the failure:\n%s", what, logs)
		assert.Empty(t, b.Release, "%s: failed build has release %s", what, b.Release)
	}
	rs, err := r.Client.ReleaseList("app1", structs.ReleaseListOptions{})
	require.NoError(t, err)
	assert.Empty(t, rs, "failed builds made releases: %v", rs)
	repo, err := name.NewRepository(r.Registry()+"/app1", name.Insecure)
	require.NoError(t, err)
	tags, err := remote.List(repo, remote.WithAuth(r.RegistryAuth()))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
		require.NoError(t, err, "listing the tags of %s", repo)
	}
	assert.Empty(t, tags, "failed builds pushed images: %v", tags)
}

// archive is a gzipped tar of name -> content.
func archive(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for n, content := range entries {
		err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(content))})
		require.NoError(t, err)
		tw.Write([]byte(content))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
