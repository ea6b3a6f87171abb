// Package local is the embedded default provider: a one-machine rack with
// its state in bbolt, objects on disk, an in-process registry holding app
// images and {rack}-build-cache, and builds on a real BuildKit, Docker engine
// or kaniko with the same BuildCache semantics as the AWS rack.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/convox/rack/internal/baseimages"
	"github.com/convox/rack/internal/registry"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local/janitor"
	"github.com/convox/rack/provider/local/objects"
	"github.com/convox/rack/provider/local/repos"
	"github.com/convox/rack/provider/local/store"
)

// Options configure a local rack.
type Options struct {
	// Name is the rack name (default "convox"); the cache repo is {Name}-build-cache.
	Name string
	// Dir holds all state: bbolt file, objects, registry storage, logs, builders.
	Dir string
	// Password is the rack API password; builds call back with it.
	Password string
	// URL is the rack API as builds reach it, http://convox:PASSWORD@127.0.0.1:PORT;
	// SetURL sets it later when the port is known only after listening.
	URL string
	// RegistryAddr is the registry's listen address (default: the address of
	// the last run, else a free loopback port).
	RegistryAddr string
	// Tools is the directory of pinned tools (buildkitd, runc, executor, docker-buildx, busybox).
	Tools string
	// BuildBinary is the static cmd/build binary.
	BuildBinary string
	// Docker is the docker CLI; empty when there is no engine to use.
	Docker string
	// BuildKitImage is the engine image of the docker-container builder
	// (ec2); without it ec2 builds use a BuildKit daemon. Fargate builds
	// always run in runc.
	BuildKitImage string
	// BaseImages, when set, are pushed at start as the docker.io images builds start FROM.
	BaseImages *baseimages.Sources
	// Now is the clock of the janitor and of build times (default time.Now).
	Now func() time.Time
	// JanitorInterval is how often cache cleanup runs (default 1h; <0 never).
	JanitorInterval time.Duration
}

// Provider is a running local rack. Close it to stop the registry and builders.
type Provider struct {
	opts     Options
	store    *store.Store
	objects  *objects.Store
	registry *registry.Server
	repos    *repos.Client
	janitor  *janitor.Janitor
	gc       *registryGC
	builds   *buildSet
	regUser  string
	regPass  string

	mu     sync.Mutex
	url    string
	params sync.Mutex // serializes SystemUpdate
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ structs.Provider = (*Provider)(nil)

// New opens (or creates) the rack in opts.Dir, starts its registry, fails
// builds a previous run left running and starts the janitor.
func New(opts Options) (*Provider, error) {
	if opts.Name == "" {
		opts.Name = "convox"
	}
	if opts.Dir == "" {
		return nil, errors.New("local: a data directory is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.JanitorInterval == 0 {
		opts.JanitorInterval = time.Hour
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("local: data directory: %w", err)
	}
	p := &Provider{opts: opts, url: opts.URL, regUser: "convox"}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	var err error
	if p.store, err = store.Open(filepath.Join(opts.Dir, "state.db")); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if p.objects, err = objects.New(filepath.Join(opts.Dir, "objects")); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := p.startRegistry(); err != nil {
		return nil, err
	}
	if opts.BaseImages != nil {
		missing, err := baseimages.Seed(context.Background(), p.registry.Host(), p.repos.Auth, *opts.BaseImages)
		if err != nil {
			return nil, fmt.Errorf("local: base images: %w", err)
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "ns=local at=base-images missing=%q hint=\"run make tools\"\n", missing)
		}
	}
	p.janitor = &janitor.Janitor{Repo: p.CacheRepo(), Registry: p.repos, Pushes: p.store, Now: opts.Now, Skip: []string{repos.MarkerTag}}
	if p.builds, err = newBuildSet(p); err != nil {
		return nil, err
	}
	if err := p.recover(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	if opts.JanitorInterval > 0 {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.janitor.Run(ctx, opts.JanitorInterval, p.cleanupPolicy, func(res janitor.Result, err error) {
				if err != nil {
					fmt.Fprintf(os.Stderr, "ns=local at=janitor error=%q\n", err)
				} else if len(res.Expired) > 0 {
					fmt.Fprintf(os.Stderr, "ns=local at=janitor expired=%d kept=%d\n", len(res.Expired), len(res.Kept))
					p.gc.request()
				}
			})
		}()
	}
	ok = true
	return p, nil
}

// startRegistry serves the registry on the address of the last run when it is
// free, so image references stored in builds stay valid across restarts.
func (p *Provider) startRegistry() error {
	secret, err := persistent(filepath.Join(p.opts.Dir, "registry.secret"), func() (string, error) { return randomHex(16) })
	if err != nil {
		return fmt.Errorf("local: registry secret: %w", err)
	}
	p.regPass = secret
	addrFile := filepath.Join(p.opts.Dir, "registry.addr")
	addr := p.opts.RegistryAddr
	if addr == "" {
		if data, err := os.ReadFile(addrFile); err == nil {
			addr = strings.TrimSpace(string(data))
		}
	}
	regOpts := registry.Options{Dir: filepath.Join(p.opts.Dir, "registry"), Username: p.regUser, Password: p.regPass, Addr: addr}
	p.registry, err = registry.Start(context.Background(), regOpts)
	if err != nil && addr != "" && p.opts.RegistryAddr == "" {
		regOpts.Addr = "" // the old port is taken: any free one
		p.registry, err = registry.Start(context.Background(), regOpts)
	}
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := os.WriteFile(addrFile, []byte(p.registry.Host()+"\n"), 0o600); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	p.repos = &repos.Client{Host: p.registry.Host(), Auth: &authn.Basic{Username: p.regUser, Password: p.regPass}, Dir: regOpts.Dir}
	p.gc = &registryGC{dir: regOpts.Dir, log: os.Stderr}
	return nil
}

// Close stops builds, the janitor and the registry, and closes the state.
func (p *Provider) Close() error {
	if p.cancel != nil {
		p.cancel()
	}
	if p.builds != nil {
		p.builds.stop()
	}
	p.wg.Wait()
	var errs []error
	if p.registry != nil {
		errs = append(errs, p.registry.Close())
	}
	if p.store != nil {
		errs = append(errs, p.store.Close())
	}
	return errors.Join(errs...)
}

// SetURL sets the rack API URL builds call back to.
func (p *Provider) SetURL(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.url = url
}

func (p *Provider) rackURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.url
}

// Registry is the embedded registry's host:port.
func (p *Provider) Registry() string { return p.registry.Host() }

// RegistryAuth is the embedded registry's login.
func (p *Provider) RegistryAuth() authn.Authenticator { return p.repos.Auth }

// CacheRepo is the build cache repository's name in the registry.
func (p *Provider) CacheRepo() string { return p.opts.Name + "-build-cache" }

// Sweep runs the cache janitor once with the current parameters; the disk of
// the images it expires is freed as soon as nothing pushes.
func (p *Provider) Sweep(ctx context.Context) (janitor.Result, error) {
	policy, on := p.cleanupPolicy()
	if !on {
		return janitor.Result{}, nil
	}
	res, err := p.janitor.Sweep(ctx, policy)
	if len(res.Expired) > 0 {
		p.gc.request()
	}
	return res, err
}

// persistent reads a value kept in path, making and saving it the first time.
func persistent(path string, make func() (string, error)) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(data))) > 0 {
		return strings.TrimSpace(string(data)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	v, err := make()
	if err != nil {
		return "", err
	}
	return v, os.WriteFile(path, []byte(v+"\n"), 0o600)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// id makes a Convox style id: a prefix and 10 uppercase letters.
func id(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return prefix + string(b)
}
