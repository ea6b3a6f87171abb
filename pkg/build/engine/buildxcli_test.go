package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindBuildx: the plugin is looked up where the docker CLI looks first
// (the config's extra dirs, then its cli-plugins); a file that is not an
// executable is not a plugin; with none, buildx runs through docker.
func TestFindBuildx(t *testing.T) {
	plugin := func(dir string, mode os.FileMode) string {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		path := filepath.Join(dir, "docker-buildx")
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"), mode))
		return path
	}
	for _, tc := range []struct {
		name  string
		setup func(cfg string) string // the plugin path expected, "" for docker
	}{
		{"config cli-plugins", func(cfg string) string { return plugin(filepath.Join(cfg, "cli-plugins"), 0o755) }},
		{"extra dir before cli-plugins", func(cfg string) string {
			extra := filepath.Join(cfg, "extra")
			plugin(filepath.Join(cfg, "cli-plugins"), 0o755)
			require.NoError(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"cliPluginsExtraDirs":["`+extra+`"]}`), 0o600))
			return plugin(extra, 0o755)
		}},
		{"not executable", func(cfg string) string {
			plugin(filepath.Join(cfg, "cli-plugins"), 0o644)
			return ""
		}},
		{"a directory of that name", func(cfg string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(cfg, "cli-plugins", "docker-buildx"), 0o755))
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// this machine's own system plugin directories are not the case's
			saved := pluginDirs
			pluginDirs = nil
			t.Cleanup(func() { pluginDirs = saved })
			cfg := t.TempDir()
			want := tc.setup(cfg)
			got := findBuildx(cfg, "/usr/bin/docker")
			if want == "" {
				name, args := got.command("version")
				assert.Equal(t, "/usr/bin/docker", name)
				assert.Equal(t, []string{"buildx", "version"}, args)
				return
			}
			name, args := got.command("build", ".")
			assert.Equal(t, want, name)
			assert.Equal(t, []string{"build", "."}, args)
		})
	}
}
