package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/tarball"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// sourceTarball writes dir as a gzipped tar to w, leaving out what
// .dockerignore excludes (as docker does for its build context) and files
// that are neither regular, directories nor symlinks.
func sourceTarball(dir string, w io.Writer) error {
	pm, err := dockerignore(dir)
	if err != nil {
		return err
	}
	var matchErr error
	skip := func(rel string, d fs.DirEntry) bool {
		if t := d.Type(); !t.IsRegular() && !t.IsDir() && t&fs.ModeSymlink == 0 {
			return true
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
