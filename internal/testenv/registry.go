package testenv

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/convox/rack/internal/registry"

	"github.com/stretchr/testify/require"
)

// Registry is a running loopback registry with basic auth.
type Registry struct {
	Host     string
	Username string
	Password string
	server   *registry.Server
}

// StartRegistry starts a registry with its own storage for one test.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{Username: "convox", Password: "reg-" + randomHex(t, 8)}
	server, err := registry.Start(context.Background(), registry.Options{
		Dir:      t.TempDir(),
		Username: r.Username,
		Password: r.Password,
	})
	require.NoError(t, err, "starting registry")
	r.server = server
	r.Host = server.Host()
	t.Cleanup(func() { server.Close() })
	return r
}

// AuthJSON is the BUILD_AUTH value for this registry.
func (r *Registry) AuthJSON() string {
	data, _ := json.Marshal(map[string]map[string]string{
		r.Host: {"username": r.Username, "password": r.Password},
	})
	return string(data)
}

// Auth is the registry login for go-containerregistry.
func (r *Registry) Auth() authn.Authenticator {
	return &authn.Basic{Username: r.Username, Password: r.Password}
}

// Stop ends the registry early, e.g. to see what a build does when it is gone.
func (r *Registry) Stop() {
	r.server.Close()
}
