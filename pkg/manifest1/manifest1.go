// Package manifest1 reads docker-compose.yml, the generation 1 app manifest:
// the services of an app, how each is built or which image it pulls. Parsing
// is strict so typos fail a build early, with messages naming the file, the
// service and the field.
package manifest1

import (
	"sort"

	"github.com/convox/rack/pkg/manifest/yamlnode"
)

// DefaultDockerfile is the Dockerfile name when the manifest gives none.
const DefaultDockerfile = "Dockerfile"

// Manifest is a parsed docker-compose.yml.
type Manifest struct {
	// Version is "2" or "2.x" for files with a services section, "" for the
	// version 1 layout where every top-level key is a service.
	Version  string
	Services []Service // sorted by name
}

// Service is one compose service.
type Service struct {
	Name        string
	Build       Build   // zero when the service is only pulled
	Image       string  // pulled when Build is zero; the tag name otherwise
	Command     Command // what the container runs
	Entrypoint  Command
	Environment []string // NAME or NAME=value, in file order
	Labels      map[string]string
	Links       []string
	MemLimit    string
	Ports       []Port
	Privileged  bool
	Volumes     []string
	line        int
}

// Build says where a service's source and Dockerfile are.
type Build struct {
	Context    string   // build context, relative to the source root
	Dockerfile string   // relative to Context
	Args       []string // NAME or NAME=value build args, in file order
}

// Command is either a shell string or an exec list, as compose allows both.
type Command struct {
	Shell string
	Exec  []string
}

// Port maps a host port to a container port; Host 0 means unpublished.
type Port struct {
	Host      int
	Container int
	Protocol  string // tcp or udp
}

// Load parses docker-compose.yml content; filename is used in messages only.
func Load(data []byte, filename string) (*Manifest, error) {
	d := &decoder{yamlnode.Problems{File: filename}}
	m, err := yamlnode.Decode(&d.Problems, data, "is empty; it needs services", d.manifest, d.validate)
	if err != nil {
		return nil, err
	}
	sort.Slice(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name })
	return m, nil
}

// Built reports whether the service is built from source rather than pulled.
func (s Service) Built() bool {
	return s.Build.Context != ""
}

// Error lists every problem found in one manifest.
type Error = yamlnode.Error
