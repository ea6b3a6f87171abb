package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestServeRequiresPasswordAndKnownProvider(t *testing.T) {
	ctx := context.Background()
	err := serve(ctx, env(nil), io.Discard, nil)
	require.ErrorContains(t, err, "RACK_PASSWORD", "no password: %v", err)
	err = serve(ctx, env(map[string]string{"RACK_PASSWORD": "x", "PROVIDER": "nope"}), io.Discard, nil)
	require.ErrorContains(t, err, `unknown PROVIDER "nope"`, "unknown provider: %v", err)
}

// TestServe starts the real server on a free loopback port over a
// registered provider, talks to it with the SDK, then stops it.
// callbackRack is a provider that wants the API URL and a Close.
type callbackRack struct {
	*apitest.Provider
	url    string
	closed bool
}

func (r *callbackRack) SetURL(u string) { r.url = u }
func (r *callbackRack) Close() error    { r.closed = true; return nil }

func TestServe(t *testing.T) {
	p := &callbackRack{Provider: apitest.New("served", nil)}
	providers["test"] = func(context.Context) (structs.Provider, error) { return p, nil }
	t.Cleanup(func() { delete(providers, "test") })

	ctx, cancel := context.WithCancel(context.Background())
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() {
		errc <- serve(ctx, env(map[string]string{"RACK_PASSWORD": "pw", "PROVIDER": "test", "PORT": "0"}), io.Discard,
			func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		require.Fail(t, "server stopped before listening", "%v", err)
	}
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), "listening on %s, want loopback", addr)
	c, err := sdk.New("http://convox:pw@" + addr)
	require.NoError(t, err)
	s, err := c.SystemGet()
	require.NoError(t, err, "SystemGet %+v %v", s, err)
	require.EqualValues(t, "served", s.Name, "SystemGet %+v %v", s, err)
	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err, "shutdown")
	case <-time.After(5 * time.Second):
		require.Fail(t, "server did not stop")
	}
	require.Equal(t, "http://convox:pw@"+addr, p.url, "provider url %q closed %v", p.url, p.closed)
	require.True(t, p.closed, "provider url %q closed %v", p.url, p.closed)
}
