package local

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
)

// depsDockerfile is a typical app: an expensive dependency step keyed by
// deps.txt, then the source. Every app of the test has a `web` service built from it.
const depsDockerfile = `FROM busybox
ARG DEPS_WORK_MB=300
WORKDIR /app
COPY deps.txt .
RUN head -c "${DEPS_WORK_MB}000000" /dev/zero | sha256sum > deps.sum && cat deps.txt >> deps.sum
COPY src/ ./src/
RUN cat src/* deps.sum > build.txt
CMD ["cat", "/app/build.txt"]
`

// multiApp is one app of the test: its dependency list and its source.
type multiApp struct{ name, deps, src string }

// uploadApp writes an app's source tree and stores it as a build source.
// A note goes to a file no step reads: builds with other notes are not reused whole.
func (r *liveRack) uploadApp(t *testing.T, a multiApp, note ...string) string {
	t.Helper()
	dir := t.TempDir()
	for path, body := range map[string]string{
		"convox.yml": "services:\n  web:\n    build: .\n    port: 3000\n",
		"Dockerfile": depsDockerfile, "deps.txt": a.deps + "\n", "src/main.txt": a.src + "\n",
		"NOTES.touched": strings.Join(note, "\n"),
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644))
	}
	var buf bytes.Buffer
	require.NoError(t, tarball.Create(dir, &buf, nil))
	o, err := r.ObjectStore(a.name, "tmp/src.tgz", &buf, structs.ObjectStoreOptions{})
	require.NoError(t, err)
	return o.Url
}

// imageFile reads one file of a build's pushed web image.
func (r *liveRack) imageFile(t *testing.T, app, build, path string) string {
	t.Helper()
	data, err := testenv.ImageFile(r.Registry()+"/"+app+":web."+build, path, r.RegistryAuth())
	require.NoError(t, err)
	return data
}

// TestMultiAppCache: on a rack of several apps that all have a `web` service,
// round-robin builds never evict each other's cache, and a new app whose
// dependency stage matches one already built is warm on its first build. Both
// methods: ec2 through the Docker engine as on an EC2 host, fargate in the
// strict runc runner as a Fargate task.
func TestMultiAppCache(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	r := startLive(t, t.TempDir(), Options{Docker: docker, BuildKitImage: testenv.BuildKitImage(t)})
	t.Cleanup(func() { _ = r.builds.engineHost(false).RemoveBuilders(t.Context(), io.Discard) })

	for _, method := range []string{"ec2", "fargate"} {
		t.Run(method, func(t *testing.T) {
			apps := []multiApp{
				{method + "-alpha", "alpha-deps 1", "alpha source"},
				{method + "-beta", "beta-deps 1", "beta source"},
				{method + "-gamma", "gamma-deps 1", "gamma source"},
			}
			newcomer := multiApp{method + "-delta", "beta-deps 1", "delta source"} // beta's dependencies
			r.set(t, "BuildMethod="+method, "BuildCache=Yes", "BuildEphemeral=Yes")
			urls := map[string]string{}
			for _, a := range append(apps, newcomer) {
				_, err := r.AppCreate(a.name, structs.AppCreateOptions{})
				require.NoError(t, err)
				urls[a.name] = r.uploadApp(t, a)
			}
			cold := map[string]time.Duration{}
			for round := 1; round <= 2; round++ {
				for _, a := range apps {
					url := urls[a.name]
					if round == 2 { // other inputs, the same steps: a fully cached build, not a reuse
						url = r.uploadApp(t, a, "round 2")
					}
					b, logs := r.build(t, a.name, url, structs.BuildCreateOptions{})
					require.Equal(t, structs.BuildStatusComplete, b.Status, "%s round %d: %s\n%s", a.name, round, b.Reason, logs)
					require.Len(t, b.Cache, 1, logs)
					s := b.Cache[0]
					took := b.Ended.Sub(b.Started)
					if round == 1 {
						cold[a.name] = took
						continue
					}
					assert.Positive(t, s.Steps, logs)
					assert.Equal(t, s.Steps, s.Cached, "%s round 2 not fully cached:\n%s", a.name, logs)
					assert.True(t, s.PersistentCache)
					want := structs.CacheSourceApp
					if method == "fargate" {
						want = structs.CacheSourceLayers
					}
					assert.Equal(t, want, s.CacheSource, logs)
					assert.Equal(t, a.src+"\n", strings.SplitN(r.imageFile(t, a.name, b.Id, "app/build.txt"), "\n", 2)[0]+"\n")
					t.Logf("%s: cold %s, warm %s (%.2f)", a.name, cold[a.name], took, took.Seconds()/cold[a.name].Seconds())
				}
			}

			b, logs := r.build(t, newcomer.name, urls[newcomer.name], structs.BuildCreateOptions{})
			require.Equal(t, structs.BuildStatusComplete, b.Status, "%s: %s\n%s", newcomer.name, b.Reason, logs)
			require.Len(t, b.Cache, 1, logs)
			s := b.Cache[0]
			// Everything up to the dependency step comes from beta's layers;
			// only the source steps (COPY src/, RUN) are built.
			assert.Equal(t, s.Steps-2, s.Cached, "new app with beta's dependencies is not warm:\n%s", logs)
			if method == "ec2" {
				assert.Equal(t, structs.CacheSourceShared, s.CacheSource, logs)
			}
			got := r.imageFile(t, newcomer.name, b.Id, "app/build.txt")
			assert.True(t, strings.HasPrefix(got, newcomer.src+"\n"), "image holds %q, want the new app's source", got)
			assert.Contains(t, got, "beta-deps 1")
			t.Logf("%s: first build %s, %d of %d steps cached (beta cold %s)", newcomer.name, b.Ended.Sub(b.Started), s.Cached, s.Steps, cold[method+"-beta"])
		})
	}
}
