// Package faultproxy is a reverse proxy in front of an OCI registry that
// injects faults per repository prefix, so tests can break the build cache
// repository while the app repository keeps working.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fault is one way a registry can misbehave.
type Fault string

const (
	// Refuse drops the connection without an answer (a reset); Down refuses
	// every new connection.
	Refuse Fault = "refuse"
	// Status500 answers 500 Internal Server Error.
	Status500 Fault = "500"
	// Unauthorized answers 401 even with valid credentials.
	Unauthorized Fault = "401"
	// Slow holds the request for the rule's delay before forwarding it.
	Slow Fault = "slow"
	// TruncateBlobs cuts blob downloads off halfway.
	TruncateBlobs Fault = "truncate"
	// CorruptManifest mangles manifest bodies, keeping their length and headers.
	CorruptManifest Fault = "corrupt"
)

// Faults lists every fault, for tests that walk them all.
var Faults = []Fault{Refuse, Status500, Unauthorized, Slow, TruncateBlobs, CorruptManifest}

// DefaultDelay is how long Slow holds a request: beyond the clients' timeouts.
const DefaultDelay = 2 * time.Minute

// rule is one fault on the repositories under a prefix.
type rule struct {
	fault   Fault
	methods map[string]bool // nil: every method
	delay   time.Duration
	after   int // matching requests still to let through before the fault starts
}

// Option refines a fault.
type Option func(*rule)

// Reads limits a fault to GET and HEAD: pulls and cache imports.
func Reads() Option { return Methods(http.MethodGet, http.MethodHead) }

// Writes limits a fault to POST, PUT, PATCH and DELETE: pushes and cache exports.
func Writes() Option {
	return Methods(http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete)
}

// Methods limits a fault to the given HTTP methods.
func Methods(methods ...string) Option {
	return func(r *rule) {
		r.methods = map[string]bool{}
		for _, m := range methods {
			r.methods[strings.ToUpper(m)] = true
		}
	}
}

// After lets the first n requests the fault matches through untouched: a
// fault that starts in the middle of a client's work.
func After(n int) Option { return func(r *rule) { r.after = n } }

// Delay sets how long Slow holds a request.
func Delay(d time.Duration) Option { return func(r *rule) { r.delay = d } }

// Request is one request the proxy saw, and what it did with it.
type Request struct {
	Method string
	Path   string
	// Repo is the repository the path names ("" for /v2/ and the catalog).
	Repo string
	// Fault is the fault injected, "" when forwarded untouched.
	Fault Fault
}

// Proxy forwards to one registry and injects the faults set on it.
type Proxy struct {
	target *url.URL
	addr   string
	rp     *httputil.ReverseProxy

	mu       sync.Mutex
	rules    map[string]rule
	requests []Request
	ln       net.Listener
	srv      *http.Server
	done     chan struct{}
	// closing is closed by Close to end requests held by Slow.
	closing chan struct{}
}

// Start serves a proxy on a free loopback port in front of the registry at
// target (host:port, plain http).
func Start(target string) (*Proxy, error) {
	u, err := url.Parse("http://" + target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad target %q: %v", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listening: %w", err)
	}
	p := &Proxy{target: u, addr: ln.Addr().String(), rules: map[string]rule{}, closing: make(chan struct{})}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// keep the proxy's host so the registry's upload Locations point back here
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: p.modify,
		// aborted bodies are the point of some faults, not news
		ErrorLog: log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.serve(ln)
	return p, nil
}

// New starts a proxy in front of target for one test and closes it when the test ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := Start(target)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// Host is the proxy's host:port; image references through it start with it.
func (p *Proxy) Host() string { return p.addr }

// Target is the registry behind the proxy.
func (p *Proxy) Target() string { return p.target.Host }

// Fail injects fault into every request for a repository whose name starts
// with prefix ("" is every request, including the /v2/ ping). The longest
// matching prefix wins; setting a prefix again replaces its fault.
func (p *Proxy) Fail(prefix string, fault Fault, opts ...Option) {
	r := rule{fault: fault, delay: DefaultDelay}
	for _, o := range opts {
		o(&r)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules[prefix] = r
}

// Heal removes the fault on prefix.
func (p *Proxy) Heal(prefix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.rules, prefix)
}

// HealAll removes every fault.
func (p *Proxy) HealAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = map[string]rule{}
}

// Requests returns what the proxy has seen so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Faulted counts the requests under prefix that got a fault.
func (p *Proxy) Faulted(prefix string) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Fault != "" && strings.HasPrefix(r.Repo, prefix) {
			n++
		}
	}
	return n
}

// Seen counts the requests under prefix, faulted or not.
func (p *Proxy) Seen(prefix string) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Repo != "" && strings.HasPrefix(r.Repo, prefix) {
			n++
		}
	}
	return n
}

// Down closes the listener: new connections are refused until Up.
func (p *Proxy) Down() error {
	p.mu.Lock()
	srv, done := p.srv, p.done
	p.srv, p.ln = nil, nil
	p.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

// Up listens again on the same address after Down.
func (p *Proxy) Up() error {
	p.mu.Lock()
	up := p.srv != nil
	p.mu.Unlock()
	if up {
		return nil
	}
	var ln net.Listener
	var err error
	// the port may linger a moment after Close
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("faultproxy: listening again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close stops the proxy and ends any request it holds.
func (p *Proxy) Close() error {
	p.mu.Lock()
	select {
	case <-p.closing:
	default:
		close(p.closing)
	}
	p.mu.Unlock()
	return p.Down()
}

func (p *Proxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 30 * time.Second}
	done := make(chan struct{})
	p.mu.Lock()
	p.ln, p.srv, p.done = ln, srv, done
	p.mu.Unlock()
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
}

// match finds the rule for a request, if any.
func (p *Proxy) match(method, repo string) (rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	best, found := rule{}, false
	bestPrefix, bestLen := "", -1
	for prefix, r := range p.rules {
		if prefix != "" && (repo == "" || !strings.HasPrefix(repo, prefix)) {
			continue
		}
		if r.methods != nil && !r.methods[method] {
			continue
		}
		if len(prefix) > bestLen {
			best, found, bestPrefix, bestLen = r, true, prefix, len(prefix)
		}
	}
	if found && best.after > 0 {
		best.after--
		p.rules[bestPrefix] = best
		return rule{}, false
	}
	return best, found
}

func (p *Proxy) record(r *http.Request, repo string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, Request{Method: r.Method, Path: r.URL.Path, Repo: repo, Fault: f})
}
