package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/manifest"
	"github.com/convox/rack/pkg/manifest1"
	"github.com/convox/rack/pkg/tarball"
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
	path, err := tarball.Inside(root, filepath.Join(root, name))
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	var services []service
	if generation == 1 {
		services, err = parseGen1(data, name)
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

func parseGen1(data []byte, filename string) ([]service, error) {
	m, err := manifest1.Load(data, filename)
	if err != nil {
		return nil, err
	}
	var out []service
	for _, s := range m.Services {
		svc := service{Name: s.Name}
		if !s.Built() {
			svc.Image = s.Image
			out = append(out, svc)
			continue
		}
		svc.Path, svc.Dockerfile = s.Build.Context, s.Build.Dockerfile
		if svc.Path == "" {
			svc.Path = "."
		}
		for _, a := range s.Build.Args {
			if strings.Contains(a, "=") {
				svc.Args = append(svc.Args, a)
			}
		}
		out = append(out, svc)
	}
	return out, nil
}

// ignoreFilesInside refuses a context whose ignore files (.dockerignore, the
// Dockerfile's own) are links out of the source: buildx and kaniko read them
// in the build task, where a link to the host's files must lead nowhere.
func ignoreFilesInside(src, ctxDir, dockerfile string) error {
	for _, p := range []string{filepath.Join(ctxDir, ".dockerignore"), dockerfile + ".dockerignore"} {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if _, err := tarball.Inside(src, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading %s: %w", filepath.Base(p), err)
		}
	}
	return nil
}
