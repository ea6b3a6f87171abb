package testenv

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// DockerConfig writes a DOCKER_CONFIG directory holding reg's login, the
// way buildctl, buildx and kaniko read registry credentials.
func DockerConfig(t testing.TB, reg *Registry) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	data, _ := json.Marshal(map[string]any{
		"auths": map[string]any{reg.Host: map[string]string{"auth": auth}},
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600))
	return dir
}
