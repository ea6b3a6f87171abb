// Package api serves the Convox rack HTTP API (routes and JSON wire format of
// convox/rack) over any structs.Provider, so existing convox CLIs and the
// build task can talk to every rack backend the same way.
//
// Every route, websocket upgrades and unknown paths included, requires HTTP
// Basic auth whose password is the rack password (any user name, as Convox),
// except GET /check, the health check that answers "ok" to anyone, as
// upstream racks do. GET /auth answers an authenticated client (convox login).
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/convox/logger"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdapi"
)

// Server is the rack API: an http.Handler that authenticates, then routes.
type Server struct {
	provider  structs.Provider
	password  func() string
	maxUpload int64
	std       *stdapi.Server

	hashMu sync.Mutex
	hashOf string            // the password hash was taken of
	hash   [sha256.Size]byte // its SHA-256
}

// DefaultMaxUpload bounds an uploaded object or imported build (5 GiB).
const DefaultMaxUpload = 5 << 30

// Option configures a Server.
type Option func(*Server)

// WithLog sends the per-request log lines to w instead of stdout.
func WithLog(w io.Writer) Option {
	return func(s *Server) { s.std.Logger = logger.NewWriter("ns=rack", w) }
}

// WithMaxUpload bounds the body of object uploads and build imports; a
// bigger one is refused with 413.
func WithMaxUpload(bytes int64) Option {
	return func(s *Server) { s.maxUpload = bytes }
}

// WithPasswordFunc makes the rack password whatever current returns at each
// request, so a changed password takes effect without a restart.
func WithPasswordFunc(current func() string) Option {
	return func(s *Server) { s.password = current }
}

// New returns the API of provider p guarded by password. An empty password
// locks every route but /check: a rack without a password is never open.
func New(p structs.Provider, password string, opts ...Option) *Server {
	s := &Server{provider: p, maxUpload: DefaultMaxUpload, std: stdapi.New("rack", "rack")}
	s.std.Logger = logger.NewWriter("ns=rack", os.Stdout)
	s.password = func() string { return password }
	for _, o := range opts {
		o(s)
	}
	// Keep ".." in paths so validation answers 400 instead of mux redirecting.
	s.std.Router.SkipClean(true)
	s.std.Router.Use(mapErrors)
	s.std.HandleNotFound(func(c *stdapi.Context) error {
		return stdapi.Errorf(http.StatusNotFound, "no such route: %s %s", c.Request().Method, c.Request().URL.Path)
	})
	for _, r := range s.routes() {
		s.std.Route(r.Method, r.Path, r.handler)
	}
	return s
}

// ServeHTTP authenticates the request before any routing, so an unauthorized
// client never reaches a handler or a websocket upgrade.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// stdapi answers GET /check with "ok": the load balancer's health check.
	if r.URL.Path == "/check" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.std.ServeHTTP(w, r)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="convox"`)
		http.Error(w, "invalid authentication", http.StatusUnauthorized)
		return
	}
	s.std.ServeHTTP(w, r)
}

// authorized compares the Basic auth password with the rack password in
// constant time (both hashed first so lengths leak nothing either).
func (s *Server) authorized(r *http.Request) bool {
	want, ok := s.passwordHash()
	if !ok {
		return false
	}
	_, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// passwordHash is the SHA-256 of the current password, taken again only when
// the password changes; false when there is no password.
func (s *Server) passwordHash() ([sha256.Size]byte, bool) {
	pw := s.password()
	if pw == "" {
		return [sha256.Size]byte{}, false
	}
	s.hashMu.Lock()
	defer s.hashMu.Unlock()
	if pw != s.hashOf || s.hash == [sha256.Size]byte{} {
		s.hashOf, s.hash = pw, sha256.Sum256([]byte(pw))
	}
	return s.hash, true
}

// mapErrors turns provider and validation errors into HTTP status codes.
func mapErrors(fn stdapi.HandlerFunc) stdapi.HandlerFunc {
	return func(c *stdapi.Context) error {
		err := fn(c)
		if err == nil {
			return nil
		}
		var se stdapi.Error
		if errors.As(err, &se) {
			return err
		}
		code := statusOf(err)
		if code == http.StatusInternalServerError {
			return err
		}
		// A client error is answered with the provider's own words; the
		// operation prefix only helps the server log.
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return stdapi.Errorf(code, "upload too large: the limit is %d bytes", tooBig.Limit)
		}
		var pe *opError
		if errors.As(err, &pe) {
			return stdapi.Errorf(code, "%s", pe.err.Error())
		}
		return stdapi.Errorf(code, "%s", err.Error())
	}
}

// statusOf maps an error to its HTTP status: structs.ErrNotFound is 404,
// structs.ErrInvalid 400, a body over the upload limit 413, a stdapi.Error
// its own code, anything else 500.
func statusOf(err error) int {
	var se stdapi.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.Code()
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, structs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, structs.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// opError is a provider error with the API operation that got it.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// providerErr wraps a provider error with the operation that got it.
func providerErr(op string, err error) error { return &opError{op: op, err: err} }

// upload returns the request body bounded by the upload limit.
func (s *Server) upload(c *stdapi.Context) io.Reader {
	return http.MaxBytesReader(c.Response(), c.Request().Body, s.maxUpload)
}
