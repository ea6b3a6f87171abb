package imagecmp

import (
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Config is what a user sees of an image's config.
type Config struct {
	Env          []string
	WorkingDir   string
	Cmd          []string
	Entrypoint   []string
	User         string
	ExposedPorts []string
	Labels       map[string]string
}

// Image is an image as the comparison sees it.
type Image struct {
	Ref    string
	FS     *FS
	Config Config
}

// FromRegistry reads the image at ref (a loopback registry is reached over http).
func FromRegistry(ref string, auth authn.Authenticator) (*Image, error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", ref, err)
	}
	img, err := remote.Image(r, remote.WithAuth(auth))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return Read(ref, img)
}

// FromDockerSave reads the image tagged tag (or the only one, with tag "")
// in a `docker save` archive.
func FromDockerSave(file, tag string) (*Image, error) {
	var t *name.Tag
	if tag != "" {
		parsed, err := name.NewTag(tag)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", tag, err)
		}
		t = &parsed
	}
	img, err := tarball.ImageFromPath(file, t)
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", tag, file, err)
	}
	return Read(file, img)
}

// Read flattens img's layers, lowest first, and reads its config.
func Read(ref string, img v1.Image) (*Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config of %s: %w", ref, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers of %s: %w", ref, err)
	}
	fs := NewFS()
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d of %s: %w", i, ref, err)
		}
		err = fs.Apply(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %d of %s: %w", i, ref, err)
		}
	}
	c := cf.Config
	out := Config{Env: c.Env, WorkingDir: c.WorkingDir, Cmd: c.Cmd, Entrypoint: c.Entrypoint, User: c.User, Labels: c.Labels}
	for p := range c.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, p)
	}
	sort.Strings(out.ExposedPorts)
	return &Image{Ref: ref, FS: fs, Config: out}, nil
}
