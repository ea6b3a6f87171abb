// Package cachekey names a Dockerfile's dependency prefixes by their content,
// so apps that install the same dependencies the same way find each other's
// layers in the rack-wide cache: the key picks a cache ref, and BuildKit's own
// cache keys still decide, layer by layer, what is reused.
package cachekey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/convox/rack/pkg/build/dockerfile"
	"github.com/convox/rack/pkg/tarball"
)

// maxHashed bounds the bytes of source files one build hashes for its keys.
const maxHashed = 64 << 20

// Keys are the dependency-prefix keys of the stages a build of target needs
// ("" is the last stage), in Dockerfile order. A stage's prefix runs from its
// FROM to its last RUN before the first instruction whose inputs the key
// cannot name cheaply: a COPY or ADD of a directory, a URL, a stage not fully
// keyed, or a RUN that binds files. Files copied before it are hashed into
// the key, so two apps share a key only when their dependency files match.
// A stage whose prefix runs nothing gets no key: there is nothing to share.
func Keys(f *dockerfile.File, contextDir, target string, args []string) []string {
	k := &keyer{f: f, dir: contextDir, args: append([]string(nil), args...), full: map[int]string{}}
	sort.Strings(k.args)
	var keys []string
	seen := map[string]bool{}
	for _, i := range k.needed(target) {
		key, full := k.stage(i)
		if full != "" {
			k.full[i] = full
		}
		if key != "" && !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	return keys
}

type keyer struct {
	f      *dockerfile.File
	dir    string
	args   []string
	full   map[int]string // keys of stages keyed whole, for stages built on them
	hashed int64
}

// text is an instruction as the key reads it: BuildKit's joined line.
func text(ins dockerfile.Instruction) string { return strings.TrimSpace(ins.Original) }

// needed are the stages target depends on, in Dockerfile order.
func (k *keyer) needed(target string) []int {
	if target != "" && k.f.Target(target) < 0 {
		target = "" // an unknown target builds the last stage
	}
	return k.f.Needed(target)
}

// stage keys one stage: its prefix key ("" when the prefix runs nothing) and,
// when the prefix is the whole stage, the key of the whole stage.
func (k *keyer) stage(i int) (string, string) {
	s := k.f.Stages[i]
	h := sha256.New()
	preamble := make([]string, 0, len(k.f.Globals))
	for _, g := range k.f.Globals {
		preamble = append(preamble, text(g))
	}
	fmt.Fprintf(h, "preamble %q\nargs %q\n", preamble, k.args)
	if j := k.f.BaseStage(i); j >= 0 {
		full, ok := k.full[j]
		if !ok {
			return "", ""
		}
		fmt.Fprintf(h, "from stage %s\n", full)
	} else {
		fmt.Fprintf(h, "from %s\n", s.Base)
	}
	key := ""
	for _, ins := range s.Instructions {
		if !k.instruction(h, ins, i) {
			return key, ""
		}
		if ins.Command == "run" {
			key = hex.EncodeToString(h.Sum(nil))[:24]
		}
	}
	full := hex.EncodeToString(h.Sum(nil))[:24]
	if key == "" {
		return "", full
	}
	return full, full
}

// keyedMounts are the RUN mount types whose inputs are not files of the
// build: they do not stop a prefix.
var keyedMounts = map[string]bool{"cache": true, "secret": true, "ssh": true, "tmpfs": true}

// instruction writes one instruction into h; false when the key cannot name its inputs.
func (k *keyer) instruction(h hash.Hash, ins dockerfile.Instruction, stage int) bool {
	fmt.Fprintf(h, "%s\n", text(ins))
	for _, doc := range ins.Heredocs {
		fmt.Fprintf(h, "heredoc %q %d\n%s\n", doc.Name, len(doc.Content), doc.Content)
	}
	switch ins.Command {
	case "run":
		for _, m := range ins.Mounts() {
			if !keyedMounts[string(m.Type)] {
				return false
			}
		}
		return true
	case "copy", "add":
		if ref := ins.CopyFrom(); ref != "" {
			j := k.f.StageIndex(ref, stage)
			if j < 0 {
				return true // an image: its reference is in the line
			}
			full, ok := k.full[j]
			fmt.Fprintf(h, "stage %s\n", full)
			return ok
		}
		for _, src := range ins.Sources() {
			if !k.hashSource(h, src) {
				return false
			}
		}
		return true
	}
	return true
}

// hashSource writes the content of the files src names in the context; false
// for a directory, a URL, a path outside the context or past the byte budget.
func (k *keyer) hashSource(h hash.Hash, src string) bool {
	if strings.Contains(src, "://") || strings.Contains(src, "$") || strings.HasPrefix(src, "git@") {
		return false
	}
	rel := filepath.Clean("/" + src)
	matches, err := filepath.Glob(filepath.Join(k.dir, rel))
	if err != nil {
		return false
	}
	sort.Strings(matches)
	for _, m := range matches {
		if _, err := tarball.Inside(k.dir, m); err != nil {
			return false // a link out of the context: BuildKit resolves it otherwise
		}
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() || k.hashed+st.Size() > maxHashed {
			return false
		}
		k.hashed += st.Size()
		fh, err := os.Open(m)
		if err != nil {
			return false
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.Base(m), st.Size())
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return false
		}
	}
	return true
}
