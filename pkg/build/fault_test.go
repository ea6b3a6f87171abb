package build

import (
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// TestCacheRegistryFaults: a cache registry that refuses connections, or
// answers 500, never fails the build; the log has a WARNING.
func TestCacheRegistryFaults(t *testing.T) {
	h := newHarness(t)
	cfg := withBuildx(t)
	url := h.upload("examples/cached-deps")

	// a port nothing listens on
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := l.Addr().String()
	l.Close()

	// a registry host answering 500 to everything
	l, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cache backend down", http.StatusInternalServerError)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	for name, host := range map[string]string{"refused": refused, "500": l.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			bk := testenv.StartBuildKit(t, h.reg)
			opts := h.opts(url)
			opts.BuildArgs = []string{"DEPS_WORK_MB=10"}
			opts.CacheRepo = host + "/rack-build-cache"
			opts.Engine.DockerConfig = cfg
			opts.Engine.BuildKitHost = bk.Addr
			log, b := h.run(opts, false)
			require.Equal(t, "complete", b.Status)
			assert.Contains(t, log, "WARNING: the build cache failed", "no cache WARNING")
			assert.NotEmpty(t, h.digest(h.push+":web."+b.Id), "image not pushed")
		})
	}
}
