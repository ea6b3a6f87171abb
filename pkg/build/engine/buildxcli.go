package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
)

// buildxCLI is how this build runs buildx: the plugin binary the docker CLI
// would pick, run standalone, or `docker buildx` when there is none to find.
// Standalone skips the docker CLI and its plugin metadata call, about 0.13 s
// of every buildx command, several of which a fresh builder waits on.
type buildxCLI struct {
	name   string
	prefix []string
}

// pluginDirs are where the docker CLI looks for plugins on Linux, after its
// config's cliPluginsExtraDirs and its config directory's cli-plugins, in
// its order of preference (docker/cli, cli-plugins/manager).
var pluginDirs = []string{
	"/usr/local/lib/docker/cli-plugins",
	"/usr/local/libexec/docker/cli-plugins",
	"/usr/lib/docker/cli-plugins",
	"/usr/libexec/docker/cli-plugins",
}

// findBuildx looks for docker-buildx as the docker CLI would with the
// DOCKER_CONFIG dir; without one, buildx runs through docker.
func findBuildx(dir, docker string) buildxCLI {
	var dirs []string
	if dir != "" {
		var cfg struct {
			Extra []string `json:"cliPluginsExtraDirs"`
		}
		if data, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
			_ = json.Unmarshal(data, &cfg)
		}
		dirs = append(append(dirs, cfg.Extra...), filepath.Join(dir, "cli-plugins"))
	}
	for _, d := range append(dirs, pluginDirs...) {
		path := filepath.Join(d, "docker-buildx")
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return buildxCLI{name: path}
		}
	}
	return buildxCLI{name: docker, prefix: []string{"buildx"}}
}

// command is the program and arguments that run `buildx args...`.
func (c buildxCLI) command(args ...string) (string, []string) {
	return c.name, append(append([]string{}, c.prefix...), args...)
}

// viaDocker says buildx runs as `docker buildx`: no plugin binary was found.
func (c buildxCLI) viaDocker() bool { return len(c.prefix) > 0 }

// works says `buildx version` runs.
func (c buildxCLI) works(ctx context.Context, env []string) bool {
	name, args := c.command("version")
	_, err := output(ctx, env, name, args...)
	return err == nil
}
