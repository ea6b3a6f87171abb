package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildSendsWhatTheBuildReads: like docker, the CLI always sends the
// manifest, each Dockerfile, .dockerignore and the per-Dockerfile and
// per-context ignore files, even when .dockerignore lists them or a
// directory above them; everything else it lists stays out.
func TestBuildSendsWhatTheBuildReads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		links    map[string]string // name -> target
		manifest []string
		want     []string
	}{{
		name: "convox.yml",
		files: map[string]string{
			"convox.yml":                         "services:\n  web:\n    build: .\n  api:\n    build:\n      path: api\n      manifest: ../docker/Dockerfile.api\n  db:\n    image: postgres\n",
			".dockerignore":                      "Dockerfile\n.dockerignore\nconvox.yml\ndocker\napi/*\n*.secret\n",
			"Dockerfile":                         "FROM busybox\nCOPY . /app\n",
			"Dockerfile.dockerignore":            "Dockerfile\n",
			"docker/Dockerfile.api":              "FROM busybox\n",
			"docker/Dockerfile.api.dockerignore": "*.md\n",
			"docker/other":                       "left out",
			"api/.dockerignore":                  "x\n",
			"api/main.go":                        "left out by api/*",
			"src/app.go":                         "package main\n",
			"a.secret":                           "left out",
		},
		want: []string{".dockerignore", "Dockerfile", "Dockerfile.dockerignore", "api/.dockerignore", "convox.yml",
			"docker/Dockerfile.api", "docker/Dockerfile.api.dockerignore", "src/app.go"},
	}, {
		name: "named manifest",
		files: map[string]string{
			"convox.staging.yml": "services:\n  web:\n    build:\n      manifest: Dockerfile.staging\n",
			"convox.yml":         "services:\n  web:\n    build: .\n",
			".dockerignore":      "*\n!src\n",
			"Dockerfile":         "FROM busybox\n",
			"Dockerfile.staging": "FROM busybox\n",
			"src/app.go":         "package main\n",
		},
		manifest: []string{"-m", "convox.staging.yml"},
		want:     []string{".dockerignore", "Dockerfile.staging", "convox.staging.yml", "src/app.go"},
	}, {
		name: "docker-compose.yml",
		files: map[string]string{
			"docker-compose.yml":  "version: '2'\nservices:\n  web:\n    build:\n      context: web\n      dockerfile: Dockerfile.prod\n  worker:\n    build: .\n",
			".dockerignore":       "**/Dockerfile*\ndocker-compose.yml\nweb/tmp\n",
			"Dockerfile":          "FROM busybox\n",
			"web/Dockerfile.prod": "FROM busybox\n",
			"web/tmp/x":           "left out",
			"web/app.rb":          "puts 1\n",
		},
		want: []string{".dockerignore", "Dockerfile", "docker-compose.yml", "web/Dockerfile.prod", "web/app.rb"},
	}, {
		name: "linked Dockerfile",
		files: map[string]string{
			"convox.yml":             "services:\n  web:\n    build: .\n",
			".dockerignore":          "docker\n",
			"docker/Dockerfile.prod": "FROM busybox\n",
			"docker/other":           "left out",
			"src/app.go":             "package main\n",
		},
		links: map[string]string{"Dockerfile": "docker/Dockerfile.prod", "outside": "/etc/passwd"},
		want:  []string{".dockerignore", "convox.yml", "docker/Dockerfile.prod", "src/app.go"},
	}, {
		name: "manifest that does not parse",
		files: map[string]string{
			"convox.yml":    "services: [\n",
			".dockerignore": "convox.yml\nDockerfile\n",
			"Dockerfile":    "FROM busybox\n",
		},
		want: []string{".dockerignore", "convox.yml"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRack(t, "app1")
			dir := sourceDir(t, tc.files)
			for name, target := range tc.links {
				require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
			}
			res := convox(t, nil, append([]string{"build", dir, "-a", "app1", "-r", r.url}, tc.manifest...)...)
			require.EqualValues(t, 0, res.code, "exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
			assert.Equal(t, tc.want, uploadedFiles(t, r, "app1"))
		})
	}
}
