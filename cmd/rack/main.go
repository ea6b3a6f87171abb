// Command rack serves the rack API (pkg/api) over a provider.
//
// Environment:
//
//	RACK_PASSWORD  the rack password; required (clients send it with Basic auth)
//	PROVIDER       which backend: local (default) or aws
//	PORT           port to listen on (default 5443)
//	BIND           address to listen on (default 127.0.0.1; 0.0.0.0 inside a container)
//	RACK_MAX_UPLOAD  largest object upload or build import in bytes (default 5 GiB)
//	RACK_TLS       self-signed: serve TLS with a certificate generated at start (the AWS stack sets it)
//
// `rack version` prints the version stamped into the binary (pkg/version) and exits.
//
// A local rack speaks plain http on loopback (http://convox:PASSWORD@127.0.0.1:5443);
// on AWS it serves TLS itself (RACK_TLS=self-signed) behind a TCP pass-through
// network load balancer, or behind an HTTPS load balancer with CertificateArn.
// GET /check answers "ok" without a password (the load balancer's health check).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/version"
)

// factory builds a provider from the environment.
type factory func(ctx context.Context) (structs.Provider, error)

// providers maps PROVIDER values to their constructors; each provider file
// of this command adds itself.
var providers = map[string]factory{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && (os.Args[1] == "version" || os.Args[1] == "-version" || os.Args[1] == "--version") {
		fmt.Println(version.Current())
		return
	}
	if err := serve(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintf(os.Stderr, "ERROR: %v\n", err)
		os.Exit(1)
	}
}

// serve runs the API until ctx ends; ready (if not nil) gets the listening address.
func serve(ctx context.Context, getenv func(string) string, log io.Writer, ready func(addr string)) error {
	password := getenv("RACK_PASSWORD")
	if password == "" {
		return errors.New("RACK_PASSWORD is required")
	}
	name := getenv("PROVIDER")
	if name == "" {
		name = "local"
	}
	newProvider, ok := providers[name]
	if !ok {
		return fmt.Errorf("unknown PROVIDER %q (available: %s)", name, available())
	}
	p, err := newProvider(ctx)
	if err != nil {
		return fmt.Errorf("provider %s: %w", name, err)
	}
	if c, ok := p.(io.Closer); ok {
		defer c.Close()
	}
	addr := net.JoinHostPort(orDefault(getenv("BIND"), "127.0.0.1"), orDefault(getenv("PORT"), "5443"))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	l, secure, err := listenTLS(l, getenv("RACK_TLS"), getenv("RACK_ENDPOINT"))
	if err != nil {
		return err
	}
	opts := []api.Option{api.WithLog(log)}
	// A provider that follows the rack password where it is kept (the aws one:
	// its secret) makes a changed password work at once, without a restart.
	if pw, ok := p.(interface{ CurrentPassword() string }); ok && pw.CurrentPassword() != "" {
		opts = append(opts, api.WithPasswordFunc(pw.CurrentPassword))
	}
	if v := getenv("RACK_MAX_UPLOAD"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("RACK_MAX_UPLOAD must be a positive number of bytes, got %q", v)
		}
		opts = append(opts, api.WithMaxUpload(n))
	}
	srv := &http.Server{Handler: api.New(p, password, opts...), ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(log, "ns=rack at=listen provider=%s version=%s addr=%s\n", name, version.Current(), l.Addr())
	// A provider whose builds call the API back learns the real address (PORT=0 picks one).
	if u, ok := p.(interface{ SetURL(string) }); ok && getenv("RACK_URL") == "" {
		u.SetURL((&url.URL{Scheme: map[bool]string{false: "http", true: "https"}[secure], User: url.UserPassword("convox", password), Host: l.Addr().String()}).String())
	}
	if ready != nil {
		ready(l.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func available() string {
	names := make([]string, 0, len(providers))
	for n := range providers {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none built in"
	}
	return strings.Join(names, ", ")
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
