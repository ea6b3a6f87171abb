package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheIdle is how long a cache request may go without progress (no
// answer, no body byte either way) before the guard gives up on the cache.
const DefaultCacheIdle = 30 * time.Second

// maxRedirects bounds the redirects the guard follows for one request: ECR
// sends a layer download to S3 with one.
const maxRedirects = 5

// cacheGuard is a loopback reverse proxy in front of the cache registry that
// kaniko reaches its cache repository through. Kaniko has no registry
// timeout: a cache registry that stops answering mid-build would stall it
// for good. A request with no progress for idle fails, and from then on
// every cache request fails at once (404, which no client retries), so a
// hung cache costs a build at most idle: kaniko reads a failed lookup as a
// miss, warns about a failed cache push, and fails on a cache layer it
// could not read, which the build loop retries without the cache.
type cacheGuard struct {
	host    string // the registry host the guard stands for
	srv     *http.Server
	addr    string
	idle    time.Duration
	rp      *httputil.ReverseProxy
	tripped atomic.Bool
	mu      sync.Mutex
	reason  string
}

// startCacheGuard serves a guard for the registry at host (https, or plain
// http for a loopback host) on a free loopback port.
func startCacheGuard(host string, idle time.Duration) (*cacheGuard, error) {
	if idle <= 0 {
		idle = DefaultCacheIdle
	}
	scheme := "https"
	if IsLoopback(host) {
		scheme = "http"
	}
	target := &url.URL{Scheme: scheme, Host: host}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cache guard: %w", err)
	}
	g := &cacheGuard{host: host, addr: ln.Addr().String(), idle: idle}
	g.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = host
		},
		Transport:      &redirectTransport{base: http.DefaultTransport.(*http.Transport).Clone(), registry: host, max: maxRedirects},
		ModifyResponse: g.modify,
		ErrorLog:       discardLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.refuse(w)
		},
	}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.handle), ReadHeaderTimeout: idle}
	go g.srv.Serve(ln)
	return g, nil
}

// Addr is the guard's host:port, what kaniko names the cache registry.
func (g *cacheGuard) Addr() string { return g.addr }

// Tripped is why the guard gave up on the cache, "" while it has not.
func (g *cacheGuard) Tripped() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reason
}

// Close stops the guard and ends the requests it holds.
func (g *cacheGuard) Close() error { return g.srv.Close() }

func (g *cacheGuard) handle(w http.ResponseWriter, r *http.Request) {
	if g.tripped.Load() {
		g.refuse(w)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(g.idle, func() {
		g.trip(fmt.Sprintf("%s %s got no answer for %s (timeout)", r.Method, r.URL.Path, g.idle))
		cancel()
	})
	defer timer.Stop()
	progress := func() { timer.Reset(g.idle) }
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &progressReader{ReadCloser: r.Body, progress: progress}
	}
	g.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, progressKey{}, progress)))
}

// modify points upload locations back at the guard and watches the body.
func (g *cacheGuard) modify(resp *http.Response) error {
	if loc := resp.Header.Get("Location"); loc != "" {
		for _, scheme := range []string{"https://", "http://"} {
			if rest, ok := strings.CutPrefix(loc, scheme+g.host+"/"); ok {
				resp.Header.Set("Location", "http://"+g.addr+"/"+rest)
			}
		}
	}
	if progress, ok := resp.Request.Context().Value(progressKey{}).(func()); ok {
		progress()
		resp.Body = &progressReader{ReadCloser: resp.Body, progress: progress}
	}
	return nil
}

// trip gives up on the cache for the rest of the build.
func (g *cacheGuard) trip(reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reason == "" {
		g.reason = reason
	}
	g.tripped.Store(true)
}

// refuse answers a cache request the guard will not forward.
func (g *cacheGuard) refuse(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"the build cache registry stopped answering; building without it"}]}`+"\n")
}

type progressKey struct{}

// progressReader calls progress on every read that moved bytes.
type progressReader struct {
	io.ReadCloser
	progress func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}

// replaceWriter passes whole lines on with old replaced by new, so kaniko's
// log names the cache registry, not the guard in front of it.
type replaceWriter struct {
	out      io.Writer
	old, new []byte
	buf      []byte
}

func (r *replaceWriter) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	if _, err := r.out.Write(bytes.ReplaceAll(r.buf[:i+1], r.old, r.new)); err != nil {
		return 0, err
	}
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	return len(p), nil
}

// Flush writes what is left of an unfinished line.
func (r *replaceWriter) Flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	_, err := r.out.Write(bytes.ReplaceAll(r.buf, r.old, r.new))
	r.buf = nil
	return err
}

// discardLog keeps the proxy quiet about the requests it ends on purpose.
var discardLog = log.New(io.Discard, "", 0)
