// Package sdk is the Go client of the rack API (pkg/api), built on
// convox/stdsdk. *Client implements structs.Provider, so the CLI and the
// build task use a remote rack exactly like a local provider.
//
// A rack is addressed by a URL carrying the rack password, as RACK_URL:
// https://convox:PASSWORD@rack.example.org (http for a local rack).
package sdk

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdsdk"
)

// Client talks to one rack.
type Client struct {
	std      *stdsdk.Client
	endpoint *url.URL
	auth     string
	http     *http.Client
	ctx      context.Context
}

var _ structs.Provider = (*Client)(nil)

// insecureTLS accepts the self-signed certificate a Convox rack serves, as
// the convox CLI does; authentication is the rack password either way.
var insecureTLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // racks use self-signed certificates

// httpClient has no overall timeout: exports, imports and uploads stream.
var httpClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       insecureTLS,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
	},
}

// New returns a client of the rack at rackURL (http or https, password in the user info).
func New(rackURL string) (*Client, error) {
	u, err := url.Parse(rackURL)
	if err != nil {
		return nil, fmt.Errorf("invalid rack url: %w", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid rack url: scheme must be http or https")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid rack url: host required")
	}
	user, pass := "convox", ""
	if u.User != nil {
		if n := u.User.Username(); n != "" {
			user = n
		}
		pass, _ = u.User.Password()
	}
	clean := *u
	clean.User = nil
	clean.Path = strings.TrimSuffix(clean.Path, "/")
	std, err := stdsdk.New(clean.String())
	if err != nil {
		return nil, fmt.Errorf("invalid rack url: %w", err)
	}
	c := &Client{
		std:      std,
		endpoint: &clean,
		auth:     "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)),
		http:     httpClient,
		ctx:      context.Background(),
	}
	std.Headers = c.headers
	return c, nil
}

// NewFromEnv returns a client of the rack named by RACK_URL.
func NewFromEnv() (*Client, error) {
	u := os.Getenv("RACK_URL")
	if u == "" {
		return nil, fmt.Errorf("RACK_URL not set")
	}
	return New(u)
}

// WithContext returns a copy of c whose requests end when ctx does.
func (c *Client) WithContext(ctx context.Context) *Client {
	d := *c
	d.ctx = ctx
	return &d
}

// Endpoint returns the rack URL without its password.
func (c *Client) Endpoint() string {
	return c.endpoint.String()
}

func (c *Client) headers() http.Header {
	h := http.Header{}
	h.Set("Authorization", c.auth)
	h.Set("User-Agent", "convox-rack-sdk")
	return h
}

// Error is a non-2xx answer of the rack. 404 unwraps to structs.ErrNotFound
// and 400 to structs.ErrInvalid, so callers test the same errors as with a
// provider in process.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap maps the status to the shared provider errors.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return structs.ErrNotFound
	case http.StatusBadRequest:
		return structs.ErrInvalid
	}
	return nil
}

// do sends one request and turns a non-2xx answer into *Error.
func (c *Client) do(method, path string, ro stdsdk.RequestOptions) (*http.Response, error) {
	req, err := c.std.Request(method, path, ro)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req = req.WithContext(c.ctx)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode/100 == 2 {
		return res, nil
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	msg := strings.TrimSpace(string(data))
	if msg == "" {
		msg = fmt.Sprintf("%s %s: %s", method, path, res.Status)
	}
	return nil, &Error{Status: res.StatusCode, Message: msg}
}

// call sends a request and decodes a JSON answer into out (when out is not nil).
func (c *Client) call(method, path string, ro stdsdk.RequestOptions, out any) error {
	res, err := c.do(method, path, ro)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := decodeJSON(res.Body, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// options marshals an options struct (param, query and header tags) the stdsdk way.
func options(opts any) (stdsdk.RequestOptions, error) {
	ro, err := stdsdk.MarshalOptions(opts)
	if err != nil {
		return ro, fmt.Errorf("marshal options: %w", err)
	}
	return ro, nil
}

func empty() stdsdk.RequestOptions {
	return stdsdk.RequestOptions{Headers: stdsdk.Headers{}, Params: stdsdk.Params{}, Query: stdsdk.Query{}}
}

// seg escapes one path segment; key escapes an object key segment by segment.
func seg(s string) string { return url.PathEscape(s) }

func key(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
