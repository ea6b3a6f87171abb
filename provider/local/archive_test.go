package local

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
)

// dockerCmd runs the docker CLI and returns its trimmed output.
func dockerCmd(t *testing.T, docker string, args ...string) string {
	t.Helper()
	out, err := exec.Command(docker, args...).CombinedOutput()
	require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// removeImages removes, at the end of the test, the engine images this test made (by tag or id).
func removeImages(t *testing.T, docker string, refs *[]string) {
	t.Cleanup(func() {
		if len(*refs) > 0 {
			exec.Command(docker, append([]string{"rmi", "--force"}, *refs...)...).Run()
		}
	})
}

// tarGz is a gzip tar of entries (name → content) in the given order, files mode 0600 as upstream writes them.
func tarGz(t *testing.T, names []string, content map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o600, Size: int64(len(content[n]))}))
		_, err := tw.Write(content[n])
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// An archive exactly as an upstream rack exports it (build.json and one
// `docker save` of every image of the build, tagged {repo}:{service}.{build})
// imports into a local rack with the same images.
func TestImportsAnUpstreamArchiveFromDockerSave(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	var made []string
	removeImages(t, docker, &made)
	dir := t.TempDir()
	const source = "BUPSTREAMAA"
	repo := "123456789012.dkr.ecr.us-east-1.amazonaws.com/convox-app1-" + strings.ToLower(id("r"))
	ids := map[string]string{}
	var tags []string
	for _, service := range []string{"web", "worker"} {
		root := filepath.Join(dir, service+".tar")
		require.NoError(t, os.WriteFile(root, tarGz(t, []string{"etc/service"}, map[string][]byte{"etc/service": []byte(service + "\n")}), 0o600))
		tag := repo + ":" + service + "." + source
		ids[service] = dockerCmd(t, docker, "import", root, tag)
		made = append(made, tag, ids[service])
		tags = append(tags, tag)
	}
	// Two services of one image: one image in the save with two tags.
	cron := repo + ":cron." + source
	dockerCmd(t, docker, "tag", ids["web"], cron)
	ids["cron"] = ids["web"]
	made = append(made, cron)
	tags = append(tags, cron)
	save := filepath.Join(dir, "app1."+source+".tar")
	dockerCmd(t, docker, append([]string{"save", "-o", save}, tags...)...)
	saved, err := os.ReadFile(save)
	require.NoError(t, err)
	manifest := "services:\n  web:\n    build: .\n  worker:\n    build: .\n"
	buildJSON, err := json.MarshalIndent(map[string]any{ // upstream's build.json fields
		"id": source, "app": "app1", "description": "from upstream", "entrypoint": "", "git-sha": "abc123",
		"logs": "", "manifest": manifest, "process": "", "release": "RUPSTREAMAA", "reason": "",
		"status": "complete", "wildcard-domain": false, "started": time.Now().UTC(), "ended": time.Now().UTC(),
	}, "", "  ")
	require.NoError(t, err)
	archive := tarGz(t, []string{"build.json", "app1." + source + ".tar"},
		map[string][]byte{"build.json": buildJSON, "app1." + source + ".tar": saved})

	p := newRack(t, t.TempDir(), time.Now)
	_, err = p.AppCreate("app2", structs.AppCreateOptions{})
	require.NoError(t, err)
	b, err := p.BuildImport("app2", bytes.NewReader(archive))
	require.NoError(t, err)
	assert.Equal(t, structs.BuildStatusComplete, b.Status)
	assert.Equal(t, manifest, b.Manifest)
	rel, err := p.ReleaseGet("app2", b.Release)
	require.NoError(t, err)
	assert.Equal(t, b.Id, rel.Build)
	assert.Equal(t, "from upstream", rel.Description)
	for service, imageID := range ids {
		ref, err := p.repos.Tag("app2", service+"."+rel.Build)
		require.NoError(t, err)
		img, err := remote.Image(ref, remote.WithAuth(p.RegistryAuth()))
		require.NoError(t, err, "image of %s in the rack's registry", service)
		cfg, err := img.ConfigName()
		require.NoError(t, err)
		assert.Equal(t, imageID, cfg.String(), "%s: the release's image is the engine's image (same config digest)", service)
		var diffIDs []string
		require.NoError(t, json.Unmarshal([]byte(dockerCmd(t, docker, "image", "inspect", "--format", "{{json .RootFS.Layers}}", imageID)), &diffIDs))
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		got := []string{}
		for _, d := range cf.RootFS.DiffIDs {
			got = append(got, d.String())
		}
		assert.Equal(t, diffIDs, got, "%s: same layers", service)
	}
}

// What this rack exports loads into a real Docker engine with `docker load`,
// as an upstream rack's import does, under tags {repo}:{service}.{build}.
func TestExportLoadsIntoDocker(t *testing.T) {
	docker := testenv.RequireDockerEngine(t)
	var made []string
	removeImages(t, docker, &made)
	p := newRack(t, t.TempDir(), time.Now)
	_, err := p.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	b := structs.Build{Id: id("B"), App: "app1", Description: "v2", Status: structs.BuildStatusComplete, Manifest: "services: {}\n"}
	require.NoError(t, p.store.BuildPut(b))
	want := map[string]string{}
	for _, service := range []string{"web", "worker"} {
		img, err := random.Image(256, 2)
		require.NoError(t, err)
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: mustConfig(t, img).RootFS})
		require.NoError(t, err)
		ref, err := p.repos.Tag("app1", service+"."+b.Id)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img, remote.WithAuth(p.RegistryAuth())))
		cfg, err := img.ConfigName()
		require.NoError(t, err)
		want[service] = cfg.String()
		if service == "web" { // a second service of the same image
			ref, err := p.repos.Tag("app1", "cron."+b.Id)
			require.NoError(t, err)
			require.NoError(t, remote.Write(ref, img, remote.WithAuth(p.RegistryAuth())))
			want["cron"] = cfg.String()
		}
	}

	var out bytes.Buffer
	require.NoError(t, p.BuildExport("app1", b.Id, &out))
	save := member(t, out.Bytes(), "app1."+b.Id+".tar")
	file := filepath.Join(t.TempDir(), "save.tar")
	require.NoError(t, os.WriteFile(file, save, 0o600))
	for service := range want {
		made = append(made, "rack1/app1:"+service+"."+b.Id)
	}
	// and back into this rack, in another app.
	_, err = p.AppCreate("app2", structs.AppCreateOptions{})
	require.NoError(t, err)
	nb, err := p.BuildImport("app2", bytes.NewReader(out.Bytes()))
	require.NoError(t, err)
	rel, err := p.ReleaseGet("app2", nb.Release)
	require.NoError(t, err)
	assert.Equal(t, "v2", rel.Description)
	for service, cfg := range want {
		ref, err := p.repos.Tag("app2", service+"."+nb.Id)
		require.NoError(t, err)
		img, err := remote.Image(ref, remote.WithAuth(p.RegistryAuth()))
		require.NoError(t, err)
		got, err := img.ConfigName()
		require.NoError(t, err)
		assert.Equal(t, cfg, got.String(), "%s imported back", service)
	}

	loaded := dockerCmd(t, docker, "load", "-i", file)
	for service, cfg := range want {
		tag := "rack1/app1:" + service + "." + b.Id
		assert.Contains(t, loaded, "Loaded image: "+tag)
		assert.Equal(t, cfg, dockerCmd(t, docker, "image", "inspect", "--format", "{{.Id}}", tag), "%s loaded as exported", service)
		// Upstream's import takes the service from the tag: after the colon, before the dot.
		assert.Equal(t, service, strings.Split(strings.Split(tag, ":")[1], ".")[0])
	}
}

func mustConfig(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	return cf
}

// member is the content of one entry of a gzip tar.
func member(t *testing.T, archive []byte, name string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
		if hdr.Name == name {
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			return data
		}
	}
	require.FailNow(t, fmt.Sprintf("no %s in the archive: %v", name, names))
	return nil
}
