package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// errNoSplit says a build goes through kaniko in one step.
var errNoSplit = errors.New("not split")

// splitTimeout bounds the registry work of a split build done here (reading
// a stage image, pushing the small one) as a whole; the cache guard bounds
// each request. Past it, the build goes in one step.
const splitTimeout = 2 * time.Minute

// maxStageFiles bounds what a split keeps of a stage: more than this and
// the target copies too much for a split to pay.
const maxStageFiles = 512 << 20

// kanikoRun runs the executor on a Dockerfile with extra flags.
type kanikoRun func(dockerfile string, extra ...string) error

// split builds req by its stage plan: each stage the target copies from as
// its own target into the cache repository, its copied paths into a small
// image, then the target. errNoSplit when the plan does not apply or the
// small images could not be made; then nothing was pushed for the app.
// repo is the cache repository, via the name kaniko reaches it by.
func (k *kaniko) split(ctx context.Context, req Request, repo, via string, run kanikoRun, log io.Writer) error {
	data, err := os.ReadFile(req.Dockerfile)
	if err != nil {
		return errNoSplit
	}
	plan := planStages(data, req.Target)
	if plan == nil {
		return errNoSplit
	}
	dir, err := os.MkdirTemp(req.Root, ".convox-stages-")
	if err != nil {
		return errNoSplit
	}
	defer os.RemoveAll(dir)
	key := stageKey(req)
	images := map[int]string{}
	for j, paths := range plan.sources {
		paths = unique(paths)
		digestFile := filepath.Join(dir, fmt.Sprintf("digest-%d", j))
		mapped := digestFile
		if k.cfg.KanikoImage != "" {
			if mapped, err = inside(req.Root, digestFile, "/workspace"); err != nil {
				return errNoSplit
			}
		}
		tag := fmt.Sprintf("stage-%s-%d", key, j)
		fmt.Fprintf(log, "Building stage %s first: the target copies from it\n", plan.targetOf(j))
		if err := run(req.Dockerfile, "--target", plan.targetOf(j), "--destination", via+":"+tag, "--digest-file", mapped); err != nil {
			return err
		}
		digest, err := os.ReadFile(digestFile)
		if err != nil {
			return fmt.Errorf("reading the digest of stage %s: %w", plan.targetOf(j), err)
		}
		// through the guard too, so a cache that hangs here costs no more than in kaniko
		small, err := stageFiles(ctx, via+"@"+strings.TrimSpace(string(digest)), via+":"+tag+"-files", paths, k.auth(repo))
		if err != nil {
			fmt.Fprintf(log, "Building the target in one step: %v\n", err)
			return errNoSplit
		}
		images[j] = via + "@" + small
	}
	final := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(final, plan.rewrite(images), 0o644); err != nil {
		return errNoSplit
	}
	var extra []string
	for _, t := range req.Tags {
		extra = append(extra, "--destination", t)
	}
	if req.Target != "" {
		extra = append(extra, "--target", req.Target)
	}
	return run(final, extra...)
}

// stageKey names the stage images of one app's build target in the cache repository.
func stageKey(req Request) string {
	h := sha256.New()
	if len(req.Tags) > 0 {
		repo, _, _ := strings.Cut(req.Tags[0], "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		io.WriteString(h, repo)
	}
	io.WriteString(h, "\x00"+req.Target)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// stageFiles reads the image at ref, keeps paths (with their parent
// directories) in one layer, pushes that image to tag and returns its digest.
func stageFiles(ctx context.Context, ref, tag string, paths []string, auth authn.Authenticator) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, splitTimeout)
	defer cancel()
	src, err := name.ParseReference(ref, refOptions(ref)...)
	if err != nil {
		return "", err
	}
	dst, err := name.ParseReference(tag, refOptions(tag)...)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}
	img, err := remote.Image(src, opts...)
	if err != nil {
		return "", fmt.Errorf("reading stage image: %w", err)
	}
	data, err := topFiles(img, paths)
	if errors.Is(err, errNotFiles) {
		data, err = keepPaths(mutate.Extract(img), paths)
	}
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return "", err
	}
	small, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return "", err
	}
	if err := remote.Write(dst, small, opts...); err != nil {
		return "", fmt.Errorf("pushing the files of the stage: %w", err)
	}
	digest, err := small.Digest()
	if err != nil {
		return "", err
	}
	return digest.String(), nil
}

// errNotFiles says a copied path is not a regular file in the layer that last wrote it.
var errNotFiles = errors.New("not only regular files")

// topFiles reads the layers from the top down until each path is found as
// a regular file, so a build that copies a few files out of a stage never
// reads its base image; a path that is anything else, or removed, is
// errNotFiles. The parent directories are made plain 0755 directories: a
// COPY of a file takes nothing from them.
func topFiles(img v1.Image, paths []string) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	type file struct {
		h    *tar.Header
		data []byte
	}
	files := map[string]file{}
	for i := len(layers) - 1; i >= 0 && len(files) < len(paths); i-- {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("reading stage layer: %w", err)
			}
			name := path.Clean("/" + h.Name)
			dir, base := path.Split(name)
			if strings.HasPrefix(base, ".wh.") {
				removed := path.Join(dir, strings.TrimPrefix(base, ".wh."))
				for _, p := range paths {
					if _, ok := files[p]; !ok && (p == removed || strings.HasPrefix(p, removed+"/") || base == ".wh..wh..opq" && strings.HasPrefix(p, dir)) {
						rc.Close()
						return nil, errNotFiles
					}
				}
				continue
			}
			if !contains(paths, name) {
				continue
			}
			if _, ok := files[name]; ok {
				continue
			}
			if h.Typeflag != tar.TypeReg || h.Size > maxStageFiles {
				rc.Close()
				return nil, errNotFiles
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				rc.Close()
				return nil, err
			}
			files[name] = file{h: h, data: data}
		}
		rc.Close()
	}
	if len(files) < len(paths) {
		return nil, errNotFiles
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, p := range paths {
		var parents []string
		for d := path.Dir(p); d != "/" && !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			dirs[d] = true
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: files[p].h.ModTime}); err != nil {
				return nil, err
			}
		}
		f := files[p]
		if dirs[p] {
			continue
		}
		dirs[p] = true
		if err := tw.WriteHeader(f.h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// keepPaths copies from a flattened filesystem tar the entries at or under
// paths and the directories above them. A path that is missing, a symlink
// or a hard link to something not kept is an error: kaniko decides those.
func keepPaths(fs io.ReadCloser, paths []string) ([]byte, error) {
	defer fs.Close()
	parents := map[string]bool{}
	for _, p := range paths {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			parents[d] = true
		}
	}
	under := func(name string) string {
		for _, p := range paths {
			if name == p || strings.HasPrefix(name, p+"/") {
				return p
			}
		}
		return ""
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	found := map[string]bool{}
	kept := map[string]bool{}
	tr := tar.NewReader(fs)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading stage filesystem: %w", err)
		}
		name := path.Clean("/" + h.Name)
		switch p := under(name); {
		case p != "":
			if h.Typeflag == tar.TypeSymlink && contains(paths, name) {
				return nil, fmt.Errorf("%s is a symlink", name)
			}
			if h.Typeflag == tar.TypeLink && !kept[path.Clean("/"+h.Linkname)] {
				return nil, fmt.Errorf("%s is a hard link to %s", name, h.Linkname)
			}
			found[p] = true
		case parents[name] && h.Typeflag == tar.TypeDir:
		default:
			continue
		}
		kept[name] = true
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
		if buf.Len() > maxStageFiles {
			return nil, fmt.Errorf("the copied paths pass %d MB", maxStageFiles>>20)
		}
	}
	for _, p := range paths {
		if !found[p] {
			return nil, fmt.Errorf("%s is not in the stage", p)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unique(list []string) []string {
	var out []string
	for _, s := range list {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// refOptions allow plain http to a loopback registry.
func refOptions(ref string) []name.Option {
	if IsLoopback(RefHost(ref + "/")) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// auth is the login for ref's registry.
func (k *kaniko) auth(ref string) authn.Authenticator {
	if l, ok := k.cfg.Logins[RefHost(ref+"/")]; ok {
		return &authn.Basic{Username: l.Username, Password: l.Password}
	}
	return authn.Anonymous
}
