package engine

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplaceWriterWholeLines: the guard's address is replaced even when a
// write splits it, and every byte written is reported written.
func TestReplaceWriterWholeLines(t *testing.T) {
	var out bytes.Buffer
	rw := &replaceWriter{out: &out, old: []byte("127.0.0.1:4000/"), new: []byte("registry.example/")}
	for _, part := range []string{"Checking for cached layer 127.0.", "0.1:4000/cache:abc...\nNo cached", " layer found\nPushing 127.0.0.1:4000/cache:d"} {
		n, err := rw.Write([]byte(part))
		require.NoError(t, err)
		assert.Equal(t, len(part), n)
	}
	assert.Equal(t, "Checking for cached layer registry.example/cache:abc...\nNo cached layer found\n", out.String())
	require.NoError(t, rw.Flush())
	assert.Equal(t, "Checking for cached layer registry.example/cache:abc...\nNo cached layer found\nPushing registry.example/cache:d", out.String())
}

// s3 is a loopback server standing for S3: it serves a blob at /blob and
// records the Authorization headers it was sent.
func s3(t *testing.T, serve http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(serve)
	t.Cleanup(srv.Close)
	return srv
}

// registryRedirecting is a loopback registry whose blob GETs answer with a
// 307 to location(), as ECR sends layer downloads to S3.
func registryRedirecting(t *testing.T, location func() string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Basic cmVnOnB3" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, location(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// guardFor starts a guard in front of srv with the given idle limit.
func guardFor(t *testing.T, srv *httptest.Server, idle time.Duration) *cacheGuard {
	t.Helper()
	g, err := startCacheGuard(strings.TrimPrefix(srv.URL, "http://"), idle)
	require.NoError(t, err)
	t.Cleanup(func() { g.Close() })
	return g
}

// getBlob GETs a blob through the guard as kaniko would, with the registry login.
func getBlob(t *testing.T, g *cacheGuard) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+g.Addr()+"/v2/cache/blobs/sha256:abc", nil)
	require.NoError(t, err)
	req.SetBasicAuth("reg", "pw")
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // kaniko must not need to follow anything itself
	}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// TestGuardFollowsRedirectToS3: the guard follows the registry's 307 to the
// "S3" server itself, without the registry's credential, and kaniko gets the
// blob in one answer.
func TestGuardFollowsRedirectToS3(t *testing.T) {
	var auths []string
	store := s3(t, func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		io.WriteString(w, "layer bytes")
	})
	reg := registryRedirecting(t, func() string { return store.URL + "/blob?X-Amz-Signature=sig" })
	g := guardFor(t, reg, 5*time.Second)

	resp, body, err := getBlob(t, g)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "layer bytes", body)
	assert.Equal(t, []string{""}, auths, "S3 got the registry's credential, or was asked more than once")
	assert.Empty(t, g.Tripped())
}

// TestGuardBoundsRedirects: a redirect loop ends after maxRedirects, as a
// refused cache request, and does not trip the guard.
func TestGuardBoundsRedirects(t *testing.T) {
	var hits atomic.Int32
	var store *httptest.Server
	store = s3(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, store.URL+"/again", http.StatusTemporaryRedirect)
	})
	reg := registryRedirecting(t, func() string { return store.URL + "/blob" })
	g := guardFor(t, reg, 5*time.Second)

	resp, _, err := getBlob(t, g)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, int32(maxRedirects), hits.Load(), "the guard followed %d redirects, want %d", hits.Load(), maxRedirects)
}

// TestGuardIdleOnRedirectedDownload: S3 sends part of the blob, then stalls.
// The guard's idle limit ends the download and gives up on the cache.
func TestGuardIdleOnRedirectedDownload(t *testing.T) {
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	store := s3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "first bytes")
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	reg := registryRedirecting(t, func() string { return store.URL + "/blob" })
	idle := 300 * time.Millisecond
	g := guardFor(t, reg, idle)

	start := time.Now()
	resp, body, err := getBlob(t, g)
	took := time.Since(start)
	if err == nil {
		assert.Less(t, len(body), 1000, "the stalled download completed (status %d)", resp.StatusCode)
	}
	assert.Less(t, took, 10*idle, "the stalled download was not cut at the idle limit")
	assert.Contains(t, g.Tripped(), "timeout")

	_, _, err = getBlob(t, g)
	require.NoError(t, err)
	resp, _, _ = getBlob(t, g)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a tripped guard forwarded a request")
}
