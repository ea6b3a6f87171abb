package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/manifest"
	"github.com/convox/rack/pkg/manifest1"
	"github.com/convox/rack/pkg/tarball"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// sourceTarball writes dir as a gzipped tar to w, leaving out what
// .dockerignore excludes (as docker does for its build context) and files
// that are neither regular, directories nor symlinks. Like docker, it always
// sends what the build itself reads, even where .dockerignore lists it: the
// manifest (manifestName, or convox.yml and docker-compose.yml), each built
// service's Dockerfile, its context's .dockerignore and its Dockerfile's own
// ignore file. The builders (buildx, kaniko) read .dockerignore from the
// context, so an ignored Dockerfile is still left out of a COPY.
func sourceTarball(dir, manifestName string, w io.Writer) error {
	pm, err := dockerignore(dir)
	if err != nil {
		return err
	}
	keep, keepDirs := buildFiles(dir, manifestName)
	var matchErr error
	skip := func(rel string, d fs.DirEntry) bool {
		if t := d.Type(); !t.IsRegular() && !t.IsDir() && t&fs.ModeSymlink == 0 {
			return true
		}
		if keep[rel] || (d.IsDir() && keepDirs[rel]) {
			return false
		}
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			matchErr = fmt.Errorf("match %s: %w", rel, err)
			return true
		}
		// With "!" exceptions a directory must be walked so its files can be let back in.
		return excluded && !(d.IsDir() && pm.Exclusions())
	}
	if err := tarball.Create(dir, w, skip); err != nil {
		return fmt.Errorf("package source: %w", err)
	}
	return matchErr
}

// buildFiles names (slash-separated, relative to dir) the files a build of
// dir reads whatever .dockerignore says, and the directories above them.
// A manifest that does not parse adds only itself: the rack reports why.
func buildFiles(dir, manifestName string) (files, dirs map[string]bool) {
	files, dirs = map[string]bool{}, map[string]bool{}
	add := func(rel string) {
		rel = path.Clean(filepath.ToSlash(rel))
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return
		}
		files[rel] = true
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	add(".dockerignore")
	// a file the build reads may be a link: send where it leads too, when that is in dir
	addFollowing := func(rel string) {
		add(rel)
		base, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return
		}
		if real, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			if r, err := filepath.Rel(base, real); err == nil {
				add(r)
			}
		}
	}
	names := []string{manifestName}
	if manifestName == "" {
		names = []string{"convox.yml", "docker-compose.yml"}
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		addFollowing(name)
		for _, b := range builds(data, name) {
			df := path.Join(b[0], b[1])
			addFollowing(df)
			add(df + ".dockerignore")
			add(path.Join(b[0], ".dockerignore"))
		}
	}
	return files, dirs
}

// builds gives the context and Dockerfile of each built service of a
// manifest: convox.yml's when it reads as one, else docker-compose.yml's.
func builds(data []byte, name string) [][2]string {
	var out [][2]string
	if m, err := manifest.Load(data, name); err == nil {
		for _, s := range m.Services {
			if s.Built() {
				out = append(out, [2]string{s.Build.Path, s.Build.Manifest})
			}
		}
		return out
	}
	if m, err := manifest1.Load(data, name); err == nil {
		for _, s := range m.Services {
			if s.Built() {
				ctx, df := s.Build.Context, s.Build.Dockerfile
				if df == "" {
					df = manifest.DefaultDockerfile
				}
				if ctx == "" {
					ctx = "."
				}
				out = append(out, [2]string{ctx, df})
			}
		}
	}
	return out
}

// dockerignore reads dir/.dockerignore; no file means nothing is excluded.
func dockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	var patterns []string
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	default:
		defer f.Close()
		if patterns, err = ignorefile.ReadAll(f); err != nil {
			return nil, fmt.Errorf("read .dockerignore: %w", err)
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("parse .dockerignore: %w", err)
	}
	return pm, nil
}

// gitInfo describes the commit of dir when its git tree is clean: the full
// sha and the default description "build <short sha> <subject>". Anything
// else (no git, not a repository, local changes) gives empty strings.
func gitInfo(dir string) (sha, description string) {
	git := func(args ...string) (string, bool) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	if status, ok := git("status", "--porcelain"); !ok || status != "" {
		return "", ""
	}
	sha, ok := git("rev-parse", "HEAD")
	if !ok {
		return "", ""
	}
	line, ok := git("log", "-1", "--abbrev=10", "--format=%h %s")
	if !ok {
		return "", ""
	}
	return sha, "build " + line
}
