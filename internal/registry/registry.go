// Package registry runs an OCI distribution registry in process, behind
// htpasswd basic auth like ECR, so one machine can hold app images and the
// build cache without a cloud account.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Options configure a registry server.
type Options struct {
	// Dir is the storage root; empty keeps everything in memory.
	Dir string
	// Username and Password are the only accepted basic auth login.
	Username, Password string
	// Addr is the listen address; the default is a free loopback port.
	Addr string
}

// Server is a running registry.
type Server struct {
	listener net.Listener
	http     *http.Server
	authDir  string
	done     chan error
}

// Start serves a registry until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Username == "" || opts.Password == "" {
		return nil, errors.New("registry: a username and a password are required")
	}
	if strings.ContainsAny(opts.Username, ":\n") {
		return nil, fmt.Errorf("registry: username %q must not contain ':' or a newline", opts.Username)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}

	authDir, err := os.MkdirTemp("", "registry-auth-")
	if err != nil {
		return nil, fmt.Errorf("registry: creating auth dir: %w", err)
	}
	htpasswd := filepath.Join(authDir, "htpasswd")
	if err := writeHtpasswd(htpasswd, opts.Username, opts.Password); err != nil {
		os.RemoveAll(authDir)
		return nil, err
	}

	config, err := configFor(opts.Dir, htpasswd)
	if err != nil {
		os.RemoveAll(authDir)
		return nil, err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.RemoveAll(authDir)
		return nil, fmt.Errorf("registry: listening on %s: %w", addr, err)
	}

	logrus.SetOutput(io.Discard)
	app := handlers.NewApp(ctx, config)
	s := &Server{
		listener: ln,
		http:     &http.Server{Handler: serialiseBlobCommits(app), ReadHeaderTimeout: 30 * time.Second},
		authDir:  authDir,
		done:     make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Host is the registry's host:port, the prefix of every image reference in it.
func (s *Server) Host() string {
	return s.listener.Addr().String()
}

// Close stops the registry and waits for it to finish serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	os.RemoveAll(s.authDir)
	return err
}

func writeHtpasswd(path, username, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("registry: hashing password: %w", err)
	}
	line := fmt.Sprintf("%s:%s\n", username, hash)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("registry: writing htpasswd: %w", err)
	}
	return nil
}

func configFor(dir, htpasswd string) (*configuration.Configuration, error) {
	storage := "  inmemory: {}\n"
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("registry: creating storage dir: %w", err)
		}
		storage = fmt.Sprintf("  filesystem:\n    rootdirectory: %q\n", dir)
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("registry: making http secret: %w", err)
	}
	yaml := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
%s  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  secret: %s
auth:
  htpasswd:
    realm: rack
    path: %q
`, storage, hex.EncodeToString(secret), htpasswd)
	config, err := configuration.Parse(strings.NewReader(yaml))
	if err != nil {
		return nil, fmt.Errorf("registry: parsing config: %w", err)
	}
	return config, nil
}
