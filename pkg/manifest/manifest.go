// Package manifest reads convox.yml, the generation 2 app manifest: which
// services an app has, how each is built or which image it pulls, and the
// environment it expects. Parsing is strict so typos fail a build early.
package manifest

import (
	"sort"

	"github.com/convox/rack/pkg/manifest/yamlnode"
)

// Default values a service gets when convox.yml leaves them out.
const (
	DefaultBuildPath  = "."
	DefaultDockerfile = "Dockerfile"
)

// Manifest is a parsed convox.yml.
type Manifest struct {
	Environment []string   // app-wide NAME or NAME=default entries
	Resources   []Resource // sorted by name
	Services    []Service  // sorted by name
	Timers      []Timer    // sorted by name
}

// Resource is a backing resource (database, queue) a service can link to.
type Resource struct {
	Name    string
	Type    string
	Options map[string]string
	line    int
}

// Timer runs a command of a service on a schedule.
type Timer struct {
	Name     string
	Schedule string
	Command  string
	Service  string
	line     int
}

// Service is one service of the app.
type Service struct {
	Name        string
	Build       ServiceBuild // zero for image-only services
	Image       string       // pulled, not built, when set
	Command     string
	Domains     []string
	Environment []string // NAME or NAME=default entries
	Health      ServiceHealth
	Internal    bool
	Port        ServicePort
	Resources   []string
	Scale       ServiceScale
	Test        string
	line        int // of the name, for messages
}

// ServiceBuild says where a service's source and Dockerfile are.
type ServiceBuild struct {
	Path     string   // build context, relative to the source root
	Manifest string   // Dockerfile name, relative to Path
	Args     []string // NAME or NAME=value build args
}

// ServiceHealth is the health check of a service.
type ServiceHealth struct {
	Path     string
	Grace    int
	Interval int
	Timeout  int
}

// ServicePort is the port a service listens on; Port 0 means none.
type ServicePort struct {
	Scheme string // http or https
	Port   int
}

// ServiceScale is how many processes of a service run and their size.
type ServiceScale struct {
	Min, Max int // desired count range; equal for a fixed count
	Cpu      int
	Memory   int
}

// Load parses convox.yml content; filename is used in error messages only.
func Load(data []byte, filename string) (*Manifest, error) {
	d := &decoder{yamlnode.Problems{File: filename}}
	m, err := yamlnode.Decode(&d.Problems, data, "is empty; it needs a services mapping", d.manifest, d.validate)
	if err != nil {
		return nil, err
	}
	sort.Slice(m.Resources, func(i, j int) bool { return m.Resources[i].Name < m.Resources[j].Name })
	sort.Slice(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name })
	sort.Slice(m.Timers, func(i, j int) bool { return m.Timers[i].Name < m.Timers[j].Name })
	return m, nil
}

// Built reports whether the service is built from source rather than pulled.
func (s Service) Built() bool {
	return s.Image == "" && s.Build.Path != ""
}

// Error lists every problem found in one manifest.
type Error = yamlnode.Error
