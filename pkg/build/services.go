package build

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/convox/rack/pkg/manifest"
)

// service is what the build loop needs of one manifest service.
type service struct {
	Name string
	// Path is the build context relative to the source root ("" for image-only services).
	Path string
	// Dockerfile is relative to Path.
	Dockerfile string
	// Args are NAME=value build args the manifest itself sets (generation 1).
	Args []string
	// Image is the image of an image-only service.
	Image string
}

// loadServices reads the manifest of the given generation from the source root.
func loadServices(root, name string, generation int) ([]service, []byte, error) {
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	var services []service
	if generation == 1 {
		if services, err = parseGen1(data); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	} else {
		services, err = parseGen2(data, name)
	}
	if err != nil {
		return nil, nil, err
	}
	for _, s := range services {
		if s.Path == "" && s.Image == "" {
			return nil, nil, fmt.Errorf("%s: service %s: needs build or image", name, s.Name)
		}
		if s.Path != "" && (filepath.IsAbs(s.Path) || strings.HasPrefix(filepath.Clean(s.Path), "..")) {
			return nil, nil, fmt.Errorf("%s: service %s: build path %q is outside the source", name, s.Name, s.Path)
		}
	}
	return services, data, nil
}

func parseGen2(data []byte, filename string) ([]service, error) {
	m, err := manifest.Load(data, filename)
	if err != nil {
		return nil, err
	}
	var out []service
	for _, s := range m.Services {
		svc := service{Name: s.Name, Image: s.Image}
		if s.Built() {
			svc.Path, svc.Dockerfile = s.Build.Path, s.Build.Manifest
			if svc.Path == "" {
				svc.Path = manifest.DefaultBuildPath
			}
			for _, a := range s.Build.Args {
				if strings.Contains(a, "=") {
					svc.Args = append(svc.Args, a)
				}
			}
		}
		out = append(out, svc)
	}
	return out, nil
}

func parseGen1(data []byte) ([]service, error) {
	var m struct {
		Services map[string]gen1Service `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Services == nil {
		// version 1 compose files put services at the top level
		var flat map[string]gen1Service
		if err := yaml.Unmarshal(data, &flat); err != nil {
			return nil, err
		}
		m.Services = flat
	}
	var out []service
	for name, s := range m.Services {
		svc := service{Name: name, Image: s.Image, Dockerfile: s.Dockerfile}
		switch s.Build.Kind {
		case yaml.ScalarNode:
			svc.Path = s.Build.Value
		case yaml.MappingNode:
			var b struct {
				Context    string            `yaml:"context"`
				Dockerfile string            `yaml:"dockerfile"`
				Args       map[string]string `yaml:"args"`
			}
			if err := s.Build.Decode(&b); err != nil {
				return nil, fmt.Errorf("service %s: build: %w", name, err)
			}
			svc.Path = b.Context
			if svc.Path == "" {
				svc.Path = "."
			}
			if b.Dockerfile != "" {
				svc.Dockerfile = b.Dockerfile
			}
			for k, v := range b.Args {
				svc.Args = append(svc.Args, k+"="+v)
			}
			sort.Strings(svc.Args)
		}
		out = append(out, svc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type gen1Service struct {
	Build      yaml.Node `yaml:"build"`
	Dockerfile string    `yaml:"dockerfile"`
	Image      string    `yaml:"image"`
}
