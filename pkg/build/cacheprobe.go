package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/convox/rack/pkg/build/engine"
)

// probeTimeout bounds the cache probe: a registry slower than this would
// stall the build itself.
const probeTimeout = 15 * time.Second

// maxProbeBlob is the largest config blob the probe reads.
const maxProbeBlob = 4 << 20

// probeCache checks the cache repository before a build: it lists its tags,
// reads one cache manifest (the first of prefer that exists, else the first
// tag) and its config blob, and returns the tags. A missing repository or tag
// is a cold cache (no tags, nil); a timeout, refused connection, 5xx, auth
// failure or a corrupt or truncated answer is an error.
func probeCache(ctx context.Context, repo string, prefer []string, logins map[string]engine.Login) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	r, err := name.NewRepository(repo, nameOptions(repo)...)
	if err != nil {
		return nil, fmt.Errorf("cache repository %q: %w", repo, err)
	}
	opts := remoteOptions(ctx, repo, logins)
	tags, err := remote.List(r, opts...)
	if err != nil {
		return nil, coldOrFault("listing the cache tags", err)
	}
	tag := pickTag(tags, prefer)
	if tag == "" {
		return tags, nil
	}
	return tags, probeManifest(r.Tag(tag), opts)
}

// probeRef reads one cache manifest (repo:tag) and its config blob, within
// the probe's limit: what kaniko reads of a cache layer before it uses it.
func probeRef(ctx context.Context, ref string, logins map[string]engine.Login) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	tag, err := name.NewTag(ref, nameOptions(ref)...)
	if err != nil {
		return fmt.Errorf("cache ref %q: %w", ref, err)
	}
	return probeManifest(tag, remoteOptions(ctx, ref, logins))
}

// headRef checks that one ref exists.
func headRef(ctx context.Context, ref string, logins map[string]engine.Login) error {
	tag, err := name.NewTag(ref, nameOptions(ref)...)
	if err != nil {
		return fmt.Errorf("cache ref %q: %w", ref, err)
	}
	if _, err := remote.Head(tag, remoteOptions(ctx, ref, logins)...); err != nil {
		return fmt.Errorf("reading %s: %w", ref, err)
	}
	return nil
}

// tagRef points dst at the manifest of src, in the same repository: no blob moves.
func tagRef(ctx context.Context, src, dst string, logins map[string]engine.Login) error {
	from, err := name.NewTag(src, nameOptions(src)...)
	if err != nil {
		return fmt.Errorf("cache ref %q: %w", src, err)
	}
	to, err := name.NewTag(dst, nameOptions(dst)...)
	if err != nil {
		return fmt.Errorf("cache ref %q: %w", dst, err)
	}
	opts := remoteOptions(ctx, src, logins)
	desc, err := remote.Get(from, opts...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if err := remote.Tag(to, desc, opts...); err != nil {
		return fmt.Errorf("tagging %s: %w", dst, err)
	}
	return nil
}

// nameOptions allow plain http to a loopback registry.
func nameOptions(ref string) []name.Option {
	if engine.IsLoopback(engine.RefHost(ref + "/")) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// remoteOptions carry ctx and the login for ref's registry.
func remoteOptions(ctx context.Context, ref string, logins map[string]engine.Login) []remote.Option {
	auth := authn.Anonymous
	if l, ok := logins[engine.RefHost(ref+"/")]; ok {
		auth = &authn.Basic{Username: l.Username, Password: l.Password}
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}
}

// pickTag is the first of prefer that tags has, else the first tag in order ("" for none).
func pickTag(tags []string, prefer []string) string {
	if len(tags) == 0 {
		return ""
	}
	for _, want := range prefer {
		if slices.Contains(tags, want) {
			return want
		}
	}
	sorted := append([]string(nil), tags...)
	sort.Strings(sorted)
	return sorted[0]
}

// probeManifest reads the manifest of ref and the whole config blob it names.
func probeManifest(ref name.Tag, opts []remote.Option) error {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return coldOrFault("reading cache manifest "+ref.String(), err)
	}
	if desc.MediaType.IsIndex() {
		if _, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest)); err != nil {
			return fmt.Errorf("cache manifest %s: %w", ref, err)
		}
		return nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return fmt.Errorf("cache manifest %s: %w", ref, err)
	}
	if m.Config.Digest.Hex == "" || m.Config.Size > maxProbeBlob {
		return nil
	}
	layer, err := remote.Layer(ref.Context().Digest(m.Config.Digest.String()), opts...)
	if err != nil {
		return fmt.Errorf("cache blob %s: %w", m.Config.Digest, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return coldOrFault("reading cache blob "+m.Config.Digest.String(), err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("reading cache blob %s: %w", m.Config.Digest, err)
	}
	return nil
}

// coldOrFault is nil for a registry answer meaning "not there yet" (a cold
// cache), else err wrapped with what was being done.
func coldOrFault(doing string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.StatusCode == http.StatusNotFound {
			return nil
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.NameUnknownErrorCode, transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode:
				return nil
			}
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}
