package faultproxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type ruleKey struct{}

// handle applies the request's fault, if any, and forwards the rest.
func (p *Proxy) handle(w http.ResponseWriter, r *http.Request) {
	repo := RepoOf(r.URL.Path)
	ru, ok := p.match(r.Method, repo)
	if !ok {
		p.record(r, repo, "")
		p.rp.ServeHTTP(w, r)
		return
	}
	switch ru.fault {
	case Refuse:
		p.record(r, repo, Refuse)
		reset(w)
		return
	case Status500:
		p.record(r, repo, Status500)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "injected fault: internal server error")
		return
	case Unauthorized:
		p.record(r, repo, Unauthorized)
		w.Header().Set("WWW-Authenticate", `Basic realm="rack"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "injected fault: authentication required")
		return
	case Slow:
		p.record(r, repo, Slow)
		t := time.NewTimer(ru.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-p.closing:
			reset(w)
			return
		}
		p.rp.ServeHTTP(w, r)
		return
	case TruncateBlobs:
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/sha256:") {
			p.record(r, repo, "")
			p.rp.ServeHTTP(w, r)
			return
		}
	case CorruptManifest:
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/manifests/") {
			p.record(r, repo, "")
			p.rp.ServeHTTP(w, r)
			return
		}
	}
	// body faults act on the response on its way back
	p.record(r, repo, ru.fault)
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ruleKey{}, ru)))
}

// modify applies the body faults to a response from the registry.
func (p *Proxy) modify(resp *http.Response) error {
	// a registry that names itself in Location would route clients around the proxy
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", strings.Replace(loc, "//"+p.target.Host+"/", "//"+p.addr+"/", 1))
	}
	ru, ok := resp.Request.Context().Value(ruleKey{}).(rule)
	if !ok || resp.StatusCode != http.StatusOK {
		return nil
	}
	switch ru.fault {
	case TruncateBlobs:
		n := resp.ContentLength / 2
		resp.Body = &truncated{ReadCloser: resp.Body, left: n}
	case CorruptManifest:
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		data = Corrupt(data)
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
		resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
	}
	return nil
}

// Corrupt returns a copy of a manifest, the same length, that is no longer
// JSON and no longer matches its digest.
func Corrupt(data []byte) []byte {
	out := append([]byte(nil), data...)
	for i := len(out) / 3; i < 2*len(out)/3; i++ {
		out[i] = 'x'
	}
	if len(out) > 0 {
		out[0] = '!'
	}
	return out
}

// truncated yields left bytes of a body and then fails, so the proxy aborts
// the response short of its Content-Length.
type truncated struct {
	io.ReadCloser
	left int64
}

func (t *truncated) Read(b []byte) (int, error) {
	if t.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(b)) > t.left {
		b = b[:t.left]
	}
	n, err := t.ReadCloser.Read(b)
	t.left -= int64(n)
	return n, err
}

// reset drops the client's connection with a TCP reset, answering nothing.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

// writeError answers in the registry's JSON error format.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"errors":[{"code":"`+code+`","message":"`+message+`"}]}`+"\n")
}

// RepoOf is the repository a registry API path names, "" for paths that name
// none (/v2/, /v2/_catalog).
func RepoOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	best := -1
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.Index(rest, marker); i > 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return rest[:best]
}
