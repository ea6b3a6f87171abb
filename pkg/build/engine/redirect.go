package engine

import (
	"fmt"
	"net/http"
)

// redirectTransport follows the redirects of a cache download itself, so the
// guard's idle limit covers the redirected download too: ECR answers a layer
// GET with a 307 to a presigned S3 URL, and a client that followed it alone
// would reach S3 with no timeout. It follows at most max redirects of a GET
// or HEAD, and sends the registry's Authorization header only to the
// registry (a presigned URL refuses a second credential).
type redirectTransport struct {
	base     http.RoundTripper
	registry string // the registry host the guard stands for
	max      int
}

func (t *redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		return resp, err
	}
	for hops := 0; isRedirect(resp.StatusCode); hops++ {
		loc, err := resp.Location()
		if err != nil {
			return resp, nil // a redirect without a usable Location goes back as it is
		}
		resp.Body.Close()
		if hops == t.max {
			return nil, fmt.Errorf("%s %s: more than %d redirects", req.Method, req.URL.Redacted(), t.max)
		}
		if loc.Scheme != "http" && loc.Scheme != "https" {
			return nil, fmt.Errorf("%s %s: redirect to unsupported scheme %q", req.Method, req.URL.Redacted(), loc.Scheme)
		}
		next, err := http.NewRequestWithContext(req.Context(), req.Method, loc.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("following a redirect of %s: %w", req.URL.Redacted(), err)
		}
		for k, v := range req.Header {
			if k == "Authorization" && loc.Host != t.registry {
				continue
			}
			next.Header[k] = v
		}
		if progress, ok := req.Context().Value(progressKey{}).(func()); ok {
			progress() // an answer, even a redirect, is progress
		}
		req = next
		if resp, err = t.base.RoundTrip(req); err != nil {
			return nil, fmt.Errorf("following a redirect to %s: %w", loc.Host, err)
		}
	}
	return resp, nil
}

// isRedirect is whether status sends the client elsewhere for the same resource.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
