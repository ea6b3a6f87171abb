// Package inputs names everything a build's images are made of with one key:
// per image, the build context after .dockerignore, the Dockerfile, the build
// args and the target, and the resolved digest of every base image; for the
// whole build, the method, the cache settings and the image repository. Two
// builds of an app with the same key make the same images, so the rack reuses
// the first's instead of running an engine for the second (pkg/build).
//
// The key errs on the side of building: a file the engine would not send but
// this package cannot tell (a Dockerfile-specific ignore file) is hashed, and
// the content of every ignore file is part of the key.
package inputs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Version changes whenever what the key covers changes, so keys of older
// builds never match.
const Version = "inputs/v1"

// Build is what the key covers.
type Build struct {
	Method     string
	Generation int
	// Development builds the development stage where there is one (the targets say so too).
	Development bool
	// Cache, CacheRepo and CacheTTL are the cache settings; NoCache is not
	// among them: a --no-cache build never reuses, and its images are as
	// good as any for a later build to reuse.
	Cache     bool
	CacheRepo string
	CacheTTL  string
	// Push is the app's image repository.
	Push   string
	Images []Image
}

// Image is one image build: the services it is tagged for and what it is made of.
type Image struct {
	Services []string
	// Context and Dockerfile are paths on disk; the key holds their contents.
	Context    string
	Dockerfile string
	Target     string
	Args       []string
	// Bases map every external image the build starts from to its resolved digest.
	Bases map[string]string
}

// Key is the build's inputs key: "sha256:" and 64 hex digits.
func Key(b Build) (string, error) {
	doc := struct {
		Version     string
		Method      string
		Generation  int
		Development bool
		Cache       bool
		CacheRepo   string
		CacheTTL    string
		Push        string
		Images      []imageDoc
	}{Version, b.Method, b.Generation, b.Development, b.Cache, b.CacheRepo, b.CacheTTL, b.Push, nil}
	for _, im := range b.Images {
		d, err := digestImage(im)
		if err != nil {
			return "", err
		}
		doc.Images = append(doc.Images, d)
	}
	sort.Slice(doc.Images, func(i, j int) bool {
		return strings.Join(doc.Images[i].Services, ",") < strings.Join(doc.Images[j].Services, ",")
	})
	data, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// imageDoc is an Image with its files reduced to digests.
type imageDoc struct {
	Services   []string
	Context    string
	Dockerfile string
	Target     string
	Args       []string
	Bases      map[string]string
}

func digestImage(im Image) (imageDoc, error) {
	d := imageDoc{Services: append([]string(nil), im.Services...), Target: im.Target, Args: im.Args, Bases: im.Bases}
	sort.Strings(d.Services)
	df, err := fileDigest(im.Dockerfile)
	if err != nil {
		return d, fmt.Errorf("hashing Dockerfile: %w", err)
	}
	d.Dockerfile = df
	if d.Context, err = Context(im.Context, im.Dockerfile); err != nil {
		return d, fmt.Errorf("hashing build context %s: %w", filepath.Base(im.Context), err)
	}
	return d, nil
}

// Context is the digest of dir as the engine receives it: every file, link
// and directory that .dockerignore does not exclude, with its path, type,
// permissions and content or link target. The ignore files themselves (the
// context's .dockerignore and the Dockerfile's own `{Dockerfile}.dockerignore`)
// are part of it whether they exclude themselves or not.
func Context(dir, dockerfile string) (string, error) {
	patterns, ignores, err := ignorePatterns(dir, dockerfile)
	if err != nil {
		return "", err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return "", fmt.Errorf("parsing .dockerignore: %w", err)
	}
	h := sha256.New()
	for _, ig := range ignores {
		fmt.Fprintf(h, "ignore %s\x00", ig)
	}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		skip, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if skip {
			if e.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode()&(fs.ModeType|fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00", target)
		case info.Mode().IsRegular():
			sum, err := fileDigest(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00", sum)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// ignorePatterns are the exclusions of the one ignore file the context has:
// .dockerignore, or the Dockerfile's own `{Dockerfile}.dockerignore` (which
// BuildKit reads instead, and kaniko does not). With both, what one engine
// ignores the other may send, so nothing is excluded. It also returns the
// digests of the ignore files that exist.
func ignorePatterns(dir, dockerfile string) ([]string, []string, error) {
	var patterns, digests []string
	for i, path := range []string{dockerfile + ".dockerignore", filepath.Join(dir, ".dockerignore")} {
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		digests = append(digests, fmt.Sprintf("%d:%x", i, sha256.Sum256(data)))
		if patterns, err = ignorefile.ReadAll(bytes.NewReader(data)); err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", filepath.Base(path), err)
		}
	}
	if len(digests) > 1 {
		patterns = nil
	}
	return patterns, digests, nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
