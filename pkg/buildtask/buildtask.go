// Package buildtask is the build-task contract between a rack provider and
// cmd/build: one Spec, encoded once as BUILD_* variables plus arguments and
// parsed back once, so every provider starts every build the same way.
package buildtask

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Method is how a rack builds: the BuildMethod rack parameter.
type Method string

// The build methods.
const (
	// EC2 builds with docker buildx on an ECS container instance.
	EC2 Method = "ec2"
	// Fargate builds with the kaniko executor in a Fargate task.
	Fargate Method = "fargate"
)

// Methods are the build methods, in the order docs list them.
var Methods = []Method{EC2, Fargate}

// ParseMethod reads a BuildMethod value; "" is ec2, the rack's default.
func ParseMethod(s string) (Method, error) {
	switch m := Method(strings.TrimSpace(s)); m {
	case "":
		return EC2, nil
	case EC2, Fargate:
		return m, nil
	}
	return "", fmt.Errorf("method must be ec2 or fargate, got %q", s)
}

// NoExpiry is the cache TTL while BuildCacheCleanup is off: the cache keeps
// every image, so kaniko never ignores a cached layer for its age (ten years).
const NoExpiry = "87600h"

// Spec is one build's settings: everything a provider tells cmd/build.
type Spec struct {
	App string
	ID  string
	// URL is the source tarball, object://{app}/{key}.
	URL string
	// Push is the app's image repository; images are tagged {Push}:{service}.{ID}.
	Push string
	// Auth is the registry logins as JSON; a secret, so only for a child
	// process (the local rack): an ECS task asks for its own (RegistryLogin).
	Auth string
	// RegistryLogin is how cmd/build logs in to the registries it pushes to
	// besides Auth: "" none, LoginECR an ECR token asked for with the task's own
	// credentials (its task role on AWS), for the hosts of Push and CacheRepo.
	RegistryLogin string
	// Generation is 1 (docker-compose.yml) or 2 (convox.yml).
	Generation int
	// Manifest is the manifest file inside the source.
	Manifest    string
	Development bool
	Method      Method
	// Cache is the rack's BuildCache parameter, as set: cmd/build's cache
	// policy decides what it means for this build (generation 1 apps say why not).
	Cache bool
	// CacheRepo is the persistent cache repository, "" while BuildCache is off.
	CacheRepo string
	// CacheTTL is how long a cached layer stays usable: a Go duration, or whole days.
	CacheTTL string
	Rack     string
	// RackURL is where cmd/build reports; it may hold the rack password (a
	// child process on the local rack) or not (an ECS task, which gets RackPassword
	// from the stack's secret, never from its overrides).
	RackURL string
	// RackPassword is the rack password when RackURL has none; a secret.
	RackPassword string
	// Mirror is a registry serving docker.io images (a rack without Docker Hub access).
	Mirror string
	// NoCache is `convox build --no-cache`.
	NoCache bool
	// BuildArgs are NAME=value pairs, in the order given.
	BuildArgs []string
}

// The variables of the contract.
const (
	EnvApp         = "BUILD_APP"
	EnvID          = "BUILD_ID"
	EnvURL         = "BUILD_URL"
	EnvPush        = "BUILD_PUSH"
	EnvAuth        = "BUILD_AUTH"
	EnvGeneration  = "BUILD_GENERATION"
	EnvManifest    = "BUILD_MANIFEST"
	EnvDevelopment = "BUILD_DEVELOPMENT"
	EnvMethod      = "BUILD_METHOD"
	EnvCache       = "BUILD_CACHE"
	EnvCacheRepo   = "BUILD_CACHE_REPO"
	EnvCacheTTL    = "BUILD_CACHE_TTL"
	EnvRack        = "BUILD_RACK"
	EnvMirror      = "BUILD_REGISTRY_MIRROR"
	EnvRackURL     = "RACK_URL"
	// EnvRegistryLogin is how cmd/build logs in to its registries (LoginECR).
	EnvRegistryLogin = "BUILD_REGISTRY_LOGIN"
	// EnvRackPassword is the rack password; on AWS an ECS secret of the task
	// definition, never a RunTask override.
	EnvRackPassword = "RACK_PASSWORD"
)

// LoginECR is the RegistryLogin of a build that asks ECR for its own token.
const LoginECR = "ecr"

// Secrets are the variables whose values are never logged or stored.
var Secrets = []string{EnvAuth, EnvRackURL, EnvRackPassword}

// FromRack sets the rack-wide settings from the rack's parameters (BuildMethod,
// BuildCache, BuildCacheCleanup, BuildCacheRetentionDays) and the cache
// repository the rack provisions (a stack output on AWS).
func (s *Spec) FromRack(params map[string]string, cacheRepo string) error {
	m, err := ParseMethod(params["BuildMethod"])
	if err != nil {
		return fmt.Errorf("BuildMethod: %w", err)
	}
	s.Method = m
	s.Cache = params["BuildCache"] == "Yes"
	s.CacheRepo = ""
	if s.Cache {
		s.CacheRepo = cacheRepo
	}
	s.CacheTTL = NoExpiry
	if params["BuildCacheCleanup"] == "Yes" {
		days, err := strconv.Atoi(params["BuildCacheRetentionDays"])
		if err != nil || days < 1 {
			return fmt.Errorf("BuildCacheRetentionDays must be a whole number of days from 1 to 365, got %q", params["BuildCacheRetentionDays"])
		}
		s.CacheTTL = fmt.Sprintf("%dh", days*24)
	}
	return nil
}

// WithDefaults fills what a provider may leave out: generation 2, the
// generation's manifest file, the ec2 method.
func (s Spec) WithDefaults() Spec {
	if s.Generation == 0 {
		s.Generation = 2
	}
	if s.Manifest == "" {
		s.Manifest = "convox.yml"
		if s.Generation == 1 {
			s.Manifest = "docker-compose.yml"
		}
	}
	if s.Method == "" {
		s.Method = EC2
	}
	return s
}

// Validate checks what a build cannot start without, naming what is allowed.
func (s Spec) Validate() error {
	var missing []string
	for name, v := range map[string]string{"app": s.App, "id": s.ID, "url": s.URL, "push": s.Push} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("missing required: %s", strings.Join(missing, ", "))
	}
	if s.Method != "" {
		if _, err := ParseMethod(string(s.Method)); err != nil {
			return err
		}
	}
	if s.Generation != 0 && s.Generation != 1 && s.Generation != 2 {
		return fmt.Errorf("generation must be 1 or 2, got %d", s.Generation)
	}
	if _, err := NormalizeTTL(s.CacheTTL); err != nil {
		return err
	}
	if s.RegistryLogin != "" && s.RegistryLogin != LoginECR {
		return fmt.Errorf("registry login must be empty or %s, got %q", LoginECR, s.RegistryLogin)
	}
	return nil
}

// Vars is the environment of the contract as name → value.
func (s Spec) Vars() map[string]string {
	gen := ""
	if s.Generation != 0 {
		gen = strconv.Itoa(s.Generation)
	}
	v := map[string]string{
		EnvApp:         s.App,
		EnvID:          s.ID,
		EnvURL:         s.URL,
		EnvPush:        s.Push,
		EnvAuth:        s.Auth,
		EnvGeneration:  gen,
		EnvManifest:    s.Manifest,
		EnvDevelopment: strconv.FormatBool(s.Development),
		EnvMethod:      string(s.Method),
		EnvCache:       strconv.FormatBool(s.Cache),
		EnvCacheRepo:   s.CacheRepo,
		EnvCacheTTL:    s.CacheTTL,
		EnvRack:        s.Rack,
		EnvRackURL:     s.RackURL,
	}
	if s.Mirror != "" {
		v[EnvMirror] = s.Mirror
	}
	if s.RegistryLogin != "" {
		v[EnvRegistryLogin] = s.RegistryLogin
	}
	// Sent only by a provider that has no safer channel for it (a child process).
	if s.RackPassword != "" {
		v[EnvRackPassword] = s.RackPassword
	}
	return v
}

// WithoutSecrets is the spec for an environment others can read (ECS task
// overrides): no registry logins, no password, RackURL without its user info.
func (s Spec) WithoutSecrets() Spec {
	s.Auth, s.RackPassword = "", ""
	if u, err := url.Parse(s.RackURL); err == nil {
		u.User = nil
		s.RackURL = u.String()
	} else {
		s.RackURL = ""
	}
	return s
}

// Environ is Vars as sorted KEY=value lines, for a child process.
func (s Spec) Environ() []string {
	vars := s.Vars()
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Args are cmd/build's arguments: -cache=false for --no-cache and one
// -build-args per build argument, in the order given.
func (s Spec) Args() []string {
	var args []string
	if s.NoCache {
		args = append(args, "-cache=false")
	}
	for _, a := range s.BuildArgs {
		args = append(args, "-build-args", a)
	}
	return args
}

// NormalizeTTL turns a cache TTL (whole days like "30", or a Go duration like
// "720h") into a Go duration string, kaniko's syntax; "" stays "".
func NormalizeTTL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if days, err := strconv.Atoi(s); err == nil {
		if days < 1 {
			return "", fmt.Errorf("cache ttl %q: days must be at least 1", s)
		}
		return fmt.Sprintf("%dh", days*24), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", fmt.Errorf("cache ttl %q: want whole days (30) or a duration (720h)", s)
	}
	return d.String(), nil
}
