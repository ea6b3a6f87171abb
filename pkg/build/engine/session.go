package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// session is a private DOCKER_CONFIG holding the build's registry logins;
// CLI plugins and buildx builder state link back to the host's config so
// builders persist between builds while credentials never touch the host.
type session struct {
	dir string
	env []string
}

func newSession(cfg Config) (*session, error) {
	dir, err := os.MkdirTemp("", "convox-docker-")
	if err != nil {
		return nil, fmt.Errorf("creating docker config: %w", err)
	}
	host := cfg.hostDockerConfig()
	if err := writeDockerConfig(dir, host, cfg.Logins); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("writing docker config: %w", err)
	}
	if host != "" {
		if _, err := os.Stat(filepath.Join(host, "cli-plugins")); err == nil {
			if err := os.Symlink(filepath.Join(host, "cli-plugins"), filepath.Join(dir, "cli-plugins")); err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
		}
		state := filepath.Join(host, "buildx")
		if err := os.MkdirAll(state, 0o700); err == nil {
			_ = os.Symlink(state, filepath.Join(dir, "buildx"))
		}
	}
	return &session{dir: dir, env: withEnv(cfg.env(), "DOCKER_CONFIG="+dir)}, nil
}

func (s *session) Close() error {
	if s == nil {
		return nil
	}
	err := os.RemoveAll(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
