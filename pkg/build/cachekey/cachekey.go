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
	"strconv"
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

// stageIndex resolves a stage reference (a name or an index) to its index, -1 if none.
func (k *keyer) stageIndex(ref string, before int) int {
	ref = strings.ToLower(strings.TrimSpace(ref))
	for i := 0; i < before && i < len(k.f.Stages); i++ {
		if k.f.Stages[i].Name != "" && k.f.Stages[i].Name == ref {
			return i
		}
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < before {
		return n
	}
	return -1
}

// needed are the stages target depends on, in Dockerfile order.
func (k *keyer) needed(target string) []int {
	last := len(k.f.Stages) - 1
	if target != "" {
		if i := k.stageIndex(target, len(k.f.Stages)); i >= 0 {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	want := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if want[i] {
			return
		}
		want[i] = true
		if j := k.stageIndex(k.f.Stages[i].From, i); j >= 0 {
			visit(j)
		}
		for _, line := range k.f.Stages[i].Lines {
			for _, ref := range fromRefs(line) {
				if j := k.stageIndex(ref, i); j >= 0 {
					visit(j)
				}
			}
		}
	}
	visit(last)
	var out []int
	for i := range k.f.Stages {
		if want[i] {
			out = append(out, i)
		}
	}
	return out
}

// stage keys one stage: its prefix key ("" when the prefix runs nothing) and,
// when the prefix is the whole stage, the key of the whole stage.
func (k *keyer) stage(i int) (string, string) {
	s := k.f.Stages[i]
	h := sha256.New()
	fmt.Fprintf(h, "preamble %q\nargs %q\n", k.f.Preamble, k.args)
	if j := k.stageIndex(s.From, i); j >= 0 {
		full, ok := k.full[j]
		if !ok {
			return "", ""
		}
		fmt.Fprintf(h, "from stage %s\n", full)
	} else {
		fmt.Fprintf(h, "from %s\n", s.From)
	}
	key := ""
	for _, line := range s.Lines {
		if !k.instruction(h, line, i) {
			return key, ""
		}
		if word, _, _ := strings.Cut(line, " "); strings.EqualFold(word, "RUN") {
			key = hex.EncodeToString(h.Sum(nil))[:24]
		}
	}
	full := hex.EncodeToString(h.Sum(nil))[:24]
	if key == "" {
		return "", full
	}
	return full, full
}

// instruction writes one instruction into h; false when the key cannot name its inputs.
func (k *keyer) instruction(h hash.Hash, line string, stage int) bool {
	word, rest, _ := strings.Cut(line, " ")
	fmt.Fprintf(h, "%s\n", line)
	switch strings.ToUpper(word) {
	case "RUN":
		for _, fl := range flagsOf(rest) {
			if strings.HasPrefix(fl, "--mount") && !strings.Contains(fl, "type=cache") && !strings.Contains(fl, "type=secret") && !strings.Contains(fl, "type=ssh") && !strings.Contains(fl, "type=tmpfs") {
				return false
			}
		}
		return true
	case "COPY", "ADD":
		flags, words := flagsOf(rest), wordsOf(rest)
		for _, fl := range flags {
			if ref, ok := strings.CutPrefix(fl, "--from="); ok {
				j := k.stageIndex(ref, stage)
				if j < 0 {
					return true // an image: its reference is in the line
				}
				full, ok := k.full[j]
				fmt.Fprintf(h, "stage %s\n", full)
				return ok
			}
		}
		if len(words) < 2 {
			return true
		}
		for _, src := range words[:len(words)-1] {
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
	if strings.Contains(src, "://") || strings.Contains(src, "$") {
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

// fromRefs are the stages or images a line reads from: COPY --from= and RUN --mount=...,from=.
func fromRefs(line string) []string {
	var refs []string
	_, rest, _ := strings.Cut(line, " ")
	for _, fl := range flagsOf(rest) {
		if ref, ok := strings.CutPrefix(fl, "--from="); ok {
			refs = append(refs, ref)
		}
		if m, ok := strings.CutPrefix(fl, "--mount="); ok {
			for _, kv := range strings.Split(m, ",") {
				if ref, ok := strings.CutPrefix(kv, "from="); ok {
					refs = append(refs, ref)
				}
			}
		}
	}
	return refs
}

// flagsOf are the leading --flags of an instruction's arguments.
func flagsOf(rest string) []string {
	var out []string
	for _, w := range strings.Fields(rest) {
		if !strings.HasPrefix(w, "--") {
			break
		}
		out = append(out, w)
	}
	return out
}

// wordsOf are an instruction's arguments after its flags, in shell or JSON form.
func wordsOf(rest string) []string {
	fields := strings.Fields(rest)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		fields = fields[1:]
	}
	joined := strings.TrimSpace(strings.Join(fields, " "))
	if strings.HasPrefix(joined, "[") && strings.HasSuffix(joined, "]") {
		var out []string
		for _, w := range strings.Split(strings.Trim(joined, "[]"), ",") {
			out = append(out, strings.Trim(strings.TrimSpace(w), `"`))
		}
		return out
	}
	return fields
}
