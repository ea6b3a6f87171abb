package local

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
)

// packagingSource writes a context with what docker's build context keeps
// and a careless packager loses: setuid and setgid files, a sticky, a
// read-only and a private directory, a hard-link pair, absolute and relative
// symlinks, a file owned by another user, and a .dockerignore that lists
// the Dockerfile, itself and the manifest when ignoreBuildFiles (a common
// pattern the upstream CLI does not send).
func packagingSource(t *testing.T, ignoreBuildFiles bool) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "ro"), 0o755) })
	file := func(name, body string, mode fs.FileMode) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		require.NoError(t, os.Chmod(p, mode))
	}
	ignore := "secret.txt\n"
	if ignoreBuildFiles {
		ignore += "Dockerfile\n.dockerignore\nconvox.yml\n"
	}
	file(".dockerignore", ignore, 0o644)
	file("convox.yml", "services:\n  web:\n    build: .\n", 0o644)
	file("Dockerfile", "FROM busybox\nCOPY . /app/\n", 0o644)
	file("secret.txt", "never sent", 0o644)
	file("bin/suid", "s\n", 0o755|fs.ModeSetuid)
	file("bin/sgid", "g\n", 0o755|fs.ModeSetgid)
	file("data/a", "same\n", 0o644)
	require.NoError(t, os.Link(filepath.Join(dir, "data/a"), filepath.Join(dir, "data/b")))
	file("private/p", "p\n", 0o644)
	require.NoError(t, os.Chmod(filepath.Join(dir, "private"), 0o700))
	file("ro/f", "r\n", 0o444)
	require.NoError(t, os.Chmod(filepath.Join(dir, "ro"), 0o555))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "tmp"), 0o777|fs.ModeSticky))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "etc-passwd")))
	require.NoError(t, os.Symlink("/usr/bin", filepath.Join(dir, "usr-bin")))
	require.NoError(t, os.Symlink("data/a", filepath.Join(dir, "rel")))
	file("owned", "o\n", 0o644)
	if os.Geteuid() == 0 {
		require.NoError(t, os.Lchown(filepath.Join(dir, "owned"), 1000, 1000))
	}
	file("src/keep.txt", "k\n", 0o644)
	return dir
}

// want is one path of the image as docker build makes it from packagingSource.
type want struct {
	typ  byte
	mode fs.FileMode
	link string
}

// dockerBuildApp is what `docker build` (BuildKit v0.34.2) gives under /app
// for packagingSource: modes kept, the hard-link pair one inode, symlink
// targets verbatim, every owner root (COPY without --chown).
var dockerBuildApp = map[string]want{
	"app/bin/suid":     {tar.TypeReg, 0o755 | fs.ModeSetuid, ""},
	"app/bin/sgid":     {tar.TypeReg, 0o755 | fs.ModeSetgid, ""},
	"app/data/a":       {tar.TypeReg, 0o644, ""},
	"app/data/b":       {tar.TypeLink, 0o644, "app/data/a"},
	"app/private":      {tar.TypeDir, 0o700, ""},
	"app/private/p":    {tar.TypeReg, 0o644, ""},
	"app/ro":           {tar.TypeDir, 0o555, ""},
	"app/ro/f":         {tar.TypeReg, 0o444, ""},
	"app/tmp":          {tar.TypeDir, 0o777 | fs.ModeSticky, ""},
	"app/etc-passwd":   {tar.TypeSymlink, 0o777, "/etc/passwd"},
	"app/usr-bin":      {tar.TypeSymlink, 0o777, "/usr/bin"},
	"app/rel":          {tar.TypeSymlink, 0o777, "data/a"},
	"app/owned":        {tar.TypeReg, 0o644, ""},
	"app/src/keep.txt": {tar.TypeReg, 0o644, ""},
}

// TestPackagingAsDockerBuild: a context with modes, links and an ignored
// Dockerfile builds on both methods, with the cache off and on, through the
// local rack, sent by our CLI and by the upstream one, and /app holds what
// docker build puts there.
func TestPackagingAsDockerBuild(t *testing.T) {
	r := startLive(t, t.TempDir(), Options{})
	testenv.Tool(t, "executor")
	upstream := testenv.UpstreamCLI(t)
	t.Setenv("RACK_URL", r.url)
	ours, theirs := packagingSource(t, true), packagingSource(t, false)
	for _, cache := range []string{"No", "Yes"} {
		for _, method := range []string{"ec2", "fargate"} {
			r.set(t, "BuildMethod="+method, "BuildCache="+cache)
			prefix := method + "-" + strings.ToLower(cache)
			t.Run(prefix+"/cli", func(t *testing.T) {
				app := prefix + "-cli"
				convox(t, "apps", "create", app)
				out := convox(t, "build", ours, "-a", app)
				m := releaseLine.FindStringSubmatch(out)
				require.NotNil(t, m, "no build id in:\n%s", out)
				got := imageTree(t, r.Registry()+"/"+app+":web."+m[1], r.RegistryAuth())
				assertAsDockerBuild(t, method, got, "app/Dockerfile", "app/.dockerignore", "app/convox.yml", "app/secret.txt")
			})
			t.Run(prefix+"/upstream-cli", func(t *testing.T) {
				app := prefix + "-upstream"
				convox(t, "apps", "create", app)
				cmd := exec.Command(upstream, "build", theirs, "-a", app)
				cmd.Env = append(os.Environ(), "RACK_URL="+r.url, "HOME="+t.TempDir())
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "upstream convox build:\n%s", out)
				builds, err := r.BuildList(app, structs.BuildListOptions{})
				require.NoError(t, err)
				require.Len(t, builds, 1, "upstream convox build:\n%s", out)
				require.Equal(t, structs.BuildStatusComplete, builds[0].Status, "upstream convox build:\n%s", out)
				got := imageTree(t, r.Registry()+"/"+app+":web."+builds[0].Id, r.RegistryAuth())
				assertAsDockerBuild(t, method, got, "app/secret.txt")
				assert.Contains(t, got, "app/Dockerfile", "not ignored, so copied")
			})
		}
	}
}

// TestPackagingThroughTheDockerEngine: the same context from our CLI on a
// rack with a Docker engine, as on an EC2 host (docker build with the cache
// off, a docker-container buildx builder with it on) and fargate in the
// strict runc runner.
func TestPackagingThroughTheDockerEngine(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	r := startLive(t, t.TempDir(), Options{Docker: docker, BuildKitImage: testenv.BuildKitImage(t)})
	t.Cleanup(func() { _ = r.builds.engineHost(false).RemoveBuilders(context.Background(), io.Discard) })
	t.Setenv("RACK_URL", r.url)
	ours := packagingSource(t, true)
	for _, cache := range []string{"No", "Yes"} {
		for _, method := range []string{"ec2", "fargate"} {
			r.set(t, "BuildMethod="+method, "BuildCache="+cache, "BuildEphemeral=Yes")
			app := method + "-" + strings.ToLower(cache) + "-engine"
			t.Run(app, func(t *testing.T) {
				convox(t, "apps", "create", app)
				out := convox(t, "build", ours, "-a", app)
				m := releaseLine.FindStringSubmatch(out)
				require.NotNil(t, m, "no build id in:\n%s", out)
				got := imageTree(t, r.Registry()+"/"+app+":web."+m[1], r.RegistryAuth())
				assertAsDockerBuild(t, method, got, "app/Dockerfile", "app/.dockerignore", "app/convox.yml", "app/secret.txt")
			})
		}
	}
}

// assertAsDockerBuild checks /app of an image against dockerBuildApp, and
// that the absent paths are not there.
func assertAsDockerBuild(t *testing.T, method string, got map[string]*tar.Header, absent ...string) {
	t.Helper()
	for path, w := range dockerBuildApp {
		h, ok := got[path]
		if !assert.True(t, ok, "%s: %s not in the image", method, path) {
			continue
		}
		if w.typ == tar.TypeLink && method == "fargate" && h.Typeflag == tar.TypeReg {
			// kaniko copies each name of a hard-linked pair as its own file
			// (a kaniko difference, listed among the fargate limitations)
			w = want{tar.TypeReg, w.mode, ""}
		}
		assert.Equal(t, string(w.typ), string(h.Typeflag), "%s: %s: type", method, path)
		assert.Equal(t, w.mode.String(), (h.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)).String(), "%s: %s: mode", method, path)
		link := h.Linkname
		if h.Typeflag == tar.TypeLink { // a hard link names a path of the image, with or without its leading /
			link = strings.TrimPrefix(link, "/")
		}
		assert.Equal(t, w.link, link, "%s: %s: link target", method, path)
		assert.Equal(t, [2]int{0, 0}, [2]int{h.Uid, h.Gid}, "%s: %s: owner", method, path)
	}
	if h, ok := got["app/data/b"]; ok {
		t.Logf("%s: app/data/b is type %q, link %q", method, h.Typeflag, h.Linkname)
	}
	for _, path := range absent {
		assert.NotContains(t, got, path, "%s: left out by .dockerignore", method)
	}
}

// imageTree reads the headers of every path under app/ in the image's
// layers, later layers winning (no layer of these images deletes anything).
func imageTree(t *testing.T, ref string, auth authn.Authenticator) map[string]*tar.Header {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(r, remote.WithAuth(auth))
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	out := map[string]*tar.Header{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		require.NoError(t, err)
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			p := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), "/")
			if p == "app" || strings.HasPrefix(p, "app/") {
				out[p] = h
			}
		}
		rc.Close()
	}
	return out
}
