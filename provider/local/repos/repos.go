// Package repos manages repositories of the rack's embedded registry through
// the registry API: listing tags, deleting images, marking and removing the
// build cache repository.
package repos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// MarkerTag is the tag of the empty image that makes a repository exist
// before any build pushed to it: a registry has no empty repositories.
const MarkerTag = "convox-repository"

// Client talks to one registry with one login.
type Client struct {
	// Host is the registry's host:port.
	Host string
	// Auth is the registry login.
	Auth authn.Authenticator
	// Dir is the registry's storage root, used only to drop an emptied repository.
	Dir string
}

func (c *Client) opts(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithAuth(c.Auth), remote.WithContext(ctx)}
}

func (c *Client) repo(repo string) (name.Repository, error) {
	r, err := name.NewRepository(c.Host+"/"+repo, name.Insecure)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %s: %w", repo, err)
	}
	return r, nil
}

// Tag names repo:tag in this registry.
func (c *Client) Tag(repo, tag string) (name.Tag, error) {
	t, err := name.NewTag(c.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return name.Tag{}, fmt.Errorf("tag %s:%s: %w", repo, tag, err)
	}
	return t, nil
}

// Exists reports whether the registry catalog lists repo.
func (c *Client) Exists(ctx context.Context, repo string) (bool, error) {
	reg, err := name.NewRegistry(c.Host, name.Insecure)
	if err != nil {
		return false, fmt.Errorf("registry %s: %w", c.Host, err)
	}
	all, err := remote.Catalog(ctx, reg, c.opts(ctx)...)
	if err != nil {
		return false, fmt.Errorf("listing repositories: %w", err)
	}
	return slices.Contains(all, repo), nil
}

// Tags lists repo's tags; a repository that does not exist has none.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	r, err := c.repo(repo)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(r, c.opts(ctx)...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	return tags, nil
}

// Digest returns the manifest digest repo:tag points at.
func (c *Client) Digest(ctx context.Context, repo, tag string) (string, error) {
	t, err := c.Tag(repo, tag)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(t, c.opts(ctx)...)
	if err != nil {
		return "", fmt.Errorf("reading %s:%s: %w", repo, tag, err)
	}
	return desc.Digest.String(), nil
}

// DeleteDigest deletes the manifest digest from repo, and with it every tag on it.
func (c *Client) DeleteDigest(ctx context.Context, repo, digest string) error {
	d, err := name.NewDigest(c.Host+"/"+repo+"@"+digest, name.Insecure)
	if err != nil {
		return fmt.Errorf("digest %s@%s: %w", repo, digest, err)
	}
	if err := remote.Delete(d, c.opts(ctx)...); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s@%s: %w", repo, digest, err)
	}
	return nil
}

// Mark pushes the empty marker image to repo, so the repository exists.
func (c *Client) Mark(ctx context.Context, repo string) error {
	t, err := c.Tag(repo, MarkerTag)
	if err != nil {
		return err
	}
	img := mutate.ConfigMediaType(empty.Image, "application/vnd.oci.image.config.v1+json")
	img = mutate.MediaType(img, "application/vnd.oci.image.manifest.v1+json")
	if err := remote.Write(t, img, c.opts(ctx)...); err != nil {
		return fmt.Errorf("creating repository %s: %w", repo, err)
	}
	return nil
}

// Remove deletes every image of repo through the registry API, checks none
// is left, then drops the emptied repository so the catalog no longer lists it.
func (c *Client) Remove(ctx context.Context, repo string) error {
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		digest, err := c.Digest(ctx, repo, tag)
		if isNotFound(err) {
			continue // deleted with an earlier tag on the same digest
		}
		if err != nil {
			return err
		}
		if err := c.DeleteDigest(ctx, repo, digest); err != nil {
			return err
		}
	}
	if left, err := c.Tags(ctx, repo); err != nil {
		return err
	} else if len(left) > 0 {
		return fmt.Errorf("repository %s still has tags after deleting its images: %v", repo, left)
	}
	return c.drop(ctx, repo)
}

// drop removes the repository's (now imageless) directory from storage.
func (c *Client) drop(ctx context.Context, repo string) error {
	if c.Dir == "" {
		return nil
	}
	named, err := reference.WithName(repo)
	if err != nil {
		return fmt.Errorf("repository %s: %w", repo, err)
	}
	ns, err := storage.NewRegistry(ctx, filesystem.New(filesystem.DriverParameters{RootDirectory: c.Dir, MaxThreads: 4}))
	if err != nil {
		return fmt.Errorf("opening registry storage: %w", err)
	}
	remover, ok := ns.(interface {
		Remove(context.Context, reference.Named) error
	})
	if !ok {
		return errors.New("registry storage cannot remove repositories")
	}
	var missing storagedriver.PathNotFoundError
	if err := remover.Remove(ctx, named); err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("removing repository %s: %w", repo, err)
	}
	return nil
}

// isNotFound reports a registry 404 (unknown repository, tag or manifest).
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
