package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a registry (internal/registry, basic auth) with a proxy in front of it.
type env struct {
	t     *testing.T
	reg   *testenv.Registry
	proxy *faultproxy.Proxy
}

func newEnv(t *testing.T) *env {
	reg := testenv.StartRegistry(t)
	return &env{t: t, reg: reg, proxy: faultproxy.New(t, reg.Host)}
}

func (e *env) ref(host, repo string) name.Reference {
	e.t.Helper()
	r, err := name.ParseReference(host+"/"+repo, name.Insecure)
	require.NoError(e.t, err)
	return r
}

// push writes a fresh random image to host/repo and returns it.
func (e *env) push(host, repo string, opts ...remote.Option) (v1.Image, error) {
	img, err := random.Image(64<<10, 2)
	require.NoError(e.t, err)
	opts = append(opts, remote.WithAuth(e.reg.Auth()))
	return img, remote.Write(e.ref(host, repo), img, opts...)
}

// pull reads repo's image through the proxy, every layer to the end.
func (e *env) pull(repo string, opts ...remote.Option) (v1.Hash, error) {
	opts = append(opts, remote.WithAuth(e.reg.Auth()))
	img, err := remote.Image(e.ref(e.proxy.Host(), repo), opts...)
	if err != nil {
		return v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	return img.Digest()
}

func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// TestPassThrough: without faults the proxy is a faithful registry, uploads included.
func TestPassThrough(t *testing.T) {
	e := newEnv(t)
	img, err := e.push(e.proxy.Host(), "myapp:web.B1")
	require.NoError(t, err, "push through the proxy")
	want, _ := img.Digest()
	got, err := e.pull("myapp:web.B1")
	require.NoError(t, err, "pull through the proxy: %v %v, want %v", got, err, want)
	require.Equal(t, want, got, "pull through the proxy: %v %v, want %v", got, err, want)
	var uploads int
	for _, r := range e.proxy.Requests() {
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/blobs/uploads/") {
			uploads++
		}
		assert.Empty(t, r.Fault, "fault %s on %s %s with no rule", r.Fault, r.Method, r.Path)
	}
	assert.NotZero(t, uploads, "blob upload PUTs did not come back through the proxy")
	assert.NotZero(t, e.proxy.Seen("myapp"), "seen myapp=%d cache=%d", e.proxy.Seen("myapp"), e.proxy.Seen("rack-build-cache"))
	assert.EqualValues(t, 0, e.proxy.Seen("rack-build-cache"), "seen myapp=%d cache=%d", e.proxy.Seen("myapp"), e.proxy.Seen("rack-build-cache"))
}

// TestEachFaultOnReads: every fault breaks a pull of the faulted repo, in its own way.
func TestEachFaultOnReads(t *testing.T) {
	e := newEnv(t)
	_, err := e.push(e.reg.Host, "rack-build-cache:web.buildcache")
	require.NoError(t, err)
	check := map[faultproxy.Fault]func(error) bool{
		faultproxy.Refuse: func(err error) bool {
			return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		},
		faultproxy.Status500:    func(err error) bool { return statusOf(err) == http.StatusInternalServerError },
		faultproxy.Unauthorized: func(err error) bool { return statusOf(err) == http.StatusUnauthorized },
		faultproxy.Slow:         func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
		faultproxy.TruncateBlobs: func(err error) bool {
			return errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected EOF")
		},
		faultproxy.CorruptManifest: func(err error) bool { return err != nil },
	}
	for _, f := range faultproxy.Faults {
		t.Run(string(f), func(t *testing.T) {
			e.proxy.Fail("rack-build-cache", f, faultproxy.Delay(5*time.Second))
			defer e.proxy.HealAll()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err := e.pull("rack-build-cache:web.buildcache", remote.WithContext(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
			require.Error(t, err, "pull succeeded under %s", f)
			assert.True(t, check[f](err), "pull under %s failed the wrong way: %v", f, err)
			assert.False(t, time.Since(start) > 4*time.Second, "pull under %s took %s; the client timeout is 1s", f, time.Since(start))
			assert.NotZero(t, e.proxy.Faulted("rack-build-cache"), "no request recorded as faulted")
		})
	}
	_, err = e.pull("rack-build-cache:web.buildcache")
	assert.NoError(t, err, "healed pull: %v", err)
}

// TestScopedByPrefix: the cache repo fails while the app repo in the same registry works.
func TestScopedByPrefix(t *testing.T) {
	e := newEnv(t)
	for _, f := range faultproxy.Faults {
		e.proxy.Fail("rack-build-cache", f, faultproxy.Delay(5*time.Second))
		img, err := e.push(e.proxy.Host(), "myapp:web."+string(f))
		require.NoError(t, err, "app push under a cache %s fault", f)
		want, _ := img.Digest()
		got, err := e.pull("myapp:web." + string(f))
		if assert.NoError(t, err, "app pull under a cache %s fault: %v %v", f, got, err) {
			assert.Equal(t, want, got, "app pull under a cache %s fault: %v %v", f, got, err)
		}
	}
	e.proxy.Fail("rack-build-cache", faultproxy.Status500)
	_, err := e.push(e.proxy.Host(), "rack-build-cache:web.buildcache", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "cache push under 500: %v", err)
	// a longer prefix overrides a shorter one
	e.proxy.Fail("my", faultproxy.Status500)
	e.proxy.Fail("myapp", faultproxy.CorruptManifest)
	_, err = e.push(e.proxy.Host(), "myapp:ok")
	assert.NoError(t, err, "push to myapp (corrupt-manifest rule only): %v", err)
	_, err = e.push(e.proxy.Host(), "myother:1", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "push to myother under the shorter prefix's 500: %v", err)
	// "" is every request, the /v2/ ping included
	e.proxy.Fail("", faultproxy.Status500)
	_, err = e.pull("myapp:ok", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "pull under the catch-all 500: %v", err)
}

// TestWritesOnly: a write fault breaks pushes and leaves pulls alone.
func TestWritesOnly(t *testing.T) {
	e := newEnv(t)
	img, err := e.push(e.reg.Host, "rack-build-cache:old")
	require.NoError(t, err)
	e.proxy.Fail("rack-build-cache", faultproxy.Status500, faultproxy.Writes())
	want, _ := img.Digest()
	got, err := e.pull("rack-build-cache:old")
	if assert.NoError(t, err, "pull under a write fault: %v %v", got, err) {
		assert.Equal(t, want, got, "pull under a write fault: %v %v", got, err)
	}
	_, err = e.push(e.proxy.Host(), "rack-build-cache:new", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "push under a write fault: %v", err)
	e.proxy.Fail("rack-build-cache", faultproxy.Status500, faultproxy.Reads())
	// a push HEADs blobs first, so a read fault breaks it too
	_, err = e.push(e.proxy.Host(), "rack-build-cache:new", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "push under a read fault: %v", err)
	_, err = e.pull("rack-build-cache:old", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.EqualValues(t, 500, statusOf(err), "pull under a read fault: %v", err)
}

// TestAfter: the fault lets the first n matching requests through, then starts.
func TestAfter(t *testing.T) {
	e := newEnv(t)
	_, err := e.push(e.reg.Host, "rack-build-cache:old")
	require.NoError(t, err)
	e.proxy.Fail("rack-build-cache", faultproxy.Status500, faultproxy.After(2))
	repo := e.ref(e.proxy.Host(), "rack-build-cache:old").Context()
	list := func() error {
		_, err := remote.List(repo, remote.WithAuth(e.reg.Auth()), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
		return err
	}
	for i := 1; i <= 2; i++ {
		require.NoError(t, list(), "request %d, before the fault starts", i)
	}
	for i := 3; i <= 4; i++ {
		err := list()
		assert.EqualValues(t, 500, statusOf(err), "request %d, after the fault started: %v, want 500", i, err)
	}
	// the client retries a 500, so count in the proxy's own record: the
	// first two requests for the repository pass, every one after faults
	var faults []faultproxy.Fault
	for _, r := range e.proxy.Requests() {
		if r.Repo == "rack-build-cache" {
			faults = append(faults, r.Fault)
		}
	}
	require.GreaterOrEqual(t, len(faults), 4, "the proxy saw %d requests for the repository, want at least 4", len(faults))
	for i, f := range faults {
		if want := faultproxy.Fault(""); i >= 2 {
			want = faultproxy.Status500
			assert.Equal(t, want, f, "request %d: fault %q, want %q", i+1, f, want)
		} else {
			assert.Equal(t, want, f, "request %d: fault %q, want none", i+1, f)
		}
	}
}

// TestCorruptManifestBytes: the manifest keeps its length but is no JSON and no longer matches its digest.
func TestCorruptManifestBytes(t *testing.T) {
	e := newEnv(t)
	img, err := e.push(e.reg.Host, "rack-build-cache:web.buildcache")
	require.NoError(t, err)
	raw, _ := img.RawManifest()
	e.proxy.Fail("rack-build-cache", faultproxy.CorruptManifest)
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.proxy.Host()+"/v2/rack-build-cache/manifests/web.buildcache", nil)
	req.SetBasicAuth(e.reg.Username, e.reg.Password)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err, "GET manifest: %d %v", resp.StatusCode, err)
	require.EqualValues(t, 200, resp.StatusCode, "GET manifest: %d %v", resp.StatusCode, err)
	if assert.Len(t, body, len(raw), "manifest not corrupted in place: %d bytes (want %d), valid JSON %v", len(body), len(raw), json.Valid(body)) {
		assert.False(t, string(body) == string(raw), "manifest not corrupted in place: %d bytes (want %d), valid JSON %v", len(body), len(raw), json.Valid(body))
		assert.False(t, json.Valid(body), "manifest not corrupted in place: %d bytes (want %d), valid JSON %v", len(body), len(raw), json.Valid(body))
	}
	d, _ := img.Digest()
	_, err = remote.Get(e.ref(e.proxy.Host(), "rack-build-cache@"+d.String()), remote.WithAuth(e.reg.Auth()))
	assert.Error(t, err, "a client fetching by digest accepted the corrupt manifest")
}

// TestDownUp: Down refuses connections outright, Up serves again on the same address.
func TestDownUp(t *testing.T) {
	e := newEnv(t)
	_, err := e.push(e.proxy.Host(), "myapp:1")
	require.NoError(t, err)
	require.NoError(t, e.proxy.Down())
	_, err = net.DialTimeout("tcp", e.proxy.Host(), time.Second)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "dial while down: %v, want connection refused", err)
	_, err = e.pull("myapp:1", remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "pull while down: %v, want connection refused", err)
	require.NoError(t, e.proxy.Up())
	_, err = e.pull("myapp:1")
	assert.NoError(t, err, "pull after up: %v", err)
}

// TestSlowEndsOnClose: a request held by Slow ends when the proxy closes, not minutes later.
func TestSlowEndsOnClose(t *testing.T) {
	reg := testenv.StartRegistry(t)
	p, err := faultproxy.Start(reg.Host)
	require.NoError(t, err)
	p.Fail("", faultproxy.Slow)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + p.Host() + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	p.Close()
	select {
	case <-errc:
	case <-time.After(10 * time.Second):
		require.Fail(t, "held request still open 10s after Close")
	}
	assert.False(t, time.Since(start) > 5*time.Second, "Close took %s", time.Since(start))
}

func TestRepoOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/":                       "",
		"/v2/_catalog":               "",
		"/v2/myapp/manifests/web.B1": "myapp",
		"/v2/org/rack-build-cache/blobs/sha256:ab": "org/rack-build-cache",
		"/v2/rack-build-cache/blobs/uploads/":      "rack-build-cache",
		"/v2/a/b/c/tags/list":                      "a/b/c",
		"/v2/a/referrers/sha256:00":                "a",
		"/other":                                   "",
	} {
		got := faultproxy.RepoOf(path)
		assert.Equal(t, want, got, "RepoOf(%q) = %q, want %q", path, got, want)
	}
}
