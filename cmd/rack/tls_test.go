package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/api/apitest"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
)

// With RACK_TLS=self-signed the API answers over TLS only, with a generated
// certificate for the endpoint's host that clients (the SDK, the convox CLI) accept.
func TestServeTLS(t *testing.T) {
	p := &callbackRack{Provider: apitest.New("served", nil)}
	providers["tlstest"] = func(context.Context) (structs.Provider, error) { return p, nil }
	t.Cleanup(func() { delete(providers, "tlstest") })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() {
		errc <- serve(ctx, env(map[string]string{"RACK_PASSWORD": "pw", "PROVIDER": "tlstest", "PORT": "0",
			"RACK_TLS": "self-signed", "RACK_ENDPOINT": "https://rack.example.com"}), io.Discard, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		require.Fail(t, "server stopped before listening", "%v", err)
	}

	c, err := sdk.New("https://convox:pw@" + addr)
	require.NoError(t, err)
	s, err := c.SystemGet()
	require.NoError(t, err)
	assert.EqualValues(t, "served", s.Name)
	assert.Equal(t, "https://convox:pw@"+addr, p.url, "builds of a local provider call back over TLS too")

	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // inspecting the served certificate
	require.NoError(t, err)
	cert := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	assert.Equal(t, []string{"rack.example.com"}, cert.DNSNames)
	assert.Equal(t, tls.VersionTLS13, int(conn.ConnectionState().Version))

	// Nothing in clear: a plain HTTP request gets no API answer.
	plain := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest("GET", "http://"+addr+"/system", nil)
	require.NoError(t, err)
	req.SetBasicAuth("convox", "pw")
	resp, err := plain.Do(req)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP answered: %s", body)
		assert.NotContains(t, string(body), "served")
	}

	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err, "shutdown")
	case <-time.After(5 * time.Second):
		require.Fail(t, "server did not stop")
	}
}

func TestServeRefusesUnknownTLSMode(t *testing.T) {
	providers["tlsbad"] = func(context.Context) (structs.Provider, error) { return apitest.New("x", nil), nil }
	t.Cleanup(func() { delete(providers, "tlsbad") })
	err := serve(context.Background(), env(map[string]string{"RACK_PASSWORD": "pw", "PROVIDER": "tlsbad", "PORT": "0", "RACK_TLS": "yes"}), io.Discard, nil)
	assert.ErrorContains(t, err, "RACK_TLS")
}
