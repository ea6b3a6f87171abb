package engine

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
)

// counter is an io.Writer that passes output on and counts steps and cache hits
// line by line with a format-specific rule.
type counter struct {
	mu    sync.Mutex
	out   io.Writer
	buf   []byte
	rule  func(line string, c *counter)
	steps map[string]bool
	hits  map[string]bool
	plain int
	cache int
}

func newCounter(out io.Writer, rule func(string, *counter)) *counter {
	return &counter{out: out, rule: rule, steps: map[string]bool{}, hits: map[string]bool{}}
}

func (c *counter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			break
		}
		c.rule(ansi.ReplaceAllString(string(bytes.TrimRight(c.buf[:i], "\r")), ""), c)
		c.buf = c.buf[i+1:]
	}
	return c.out.Write(p)
}

// Result is what was counted so far.
func (c *counter) Result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		c.rule(string(c.buf), c)
		c.buf = nil
	}
	r := Result{Steps: len(c.steps) + c.plain, Cached: c.cache}
	for id := range c.hits {
		if c.steps[id] {
			r.Cached++
		}
	}
	return r
}

var (
	// #7 [web 2/3] RUN make   |   #7 [2/3] COPY . .   (FROM is a base image, not a step)
	buildkitStep = regexp.MustCompile(`^#(\d+) \[(?:[^\]]* )?\d+/\d+\] (\S+)`)
	// #7 CACHED
	buildkitCached = regexp.MustCompile(`^#(\d+) CACHED\s*$`)
	// #7 sha256:4b1f… 31.47MB / 31.47MB 0.1s done   |   #7 extracting sha256:4b1f…
	// A step whose result a later step needs is pulled from the registry
	// cache and unpacked instead of printing CACHED: its blobs show under it.
	buildkitLoaded = regexp.MustCompile(`^#(\d+) (?:extracting )?sha256:[0-9a-f]{64}\b`)
	// Step 2/5 : RUN make   (not FROM)
	dockerStep = regexp.MustCompile(`^Step \d+/\d+ : (\S+)`)
	// kaniko: INFO[0003] RUN make   (also COPY, ADD, ...); a hit says "Using caching version of cmd"
	// (the same layer-making instructions BuildKit shows as steps)
	// kaniko caches RUN, COPY and ADD only: a WORKDIR is no step a cache can serve
	kanikoStep   = regexp.MustCompile(`^INFO\[\d+\] (?i:RUN|COPY|ADD)[ \t]`)
	kanikoCached = regexp.MustCompile(`^INFO\[\d+\] Found cached layer, extracting`)
	// terminal colour codes kaniko puts around its log level
	ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)
)

// buildkitRule counts `--progress=plain` vertices named [stage n/m], and as
// cached those that print CACHED or were loaded from the registry cache.
func buildkitRule(line string, c *counter) {
	if m := buildkitStep.FindStringSubmatch(line); m != nil {
		if !strings.EqualFold(m[2], "FROM") {
			c.steps[m[1]] = true
		}
	} else if m := buildkitCached.FindStringSubmatch(line); m != nil {
		c.hits[m[1]] = true
	} else if m := buildkitLoaded.FindStringSubmatch(line); m != nil {
		c.hits[m[1]] = true
	}
}

// dockerRule counts the legacy builder's "Step n/m" and "Using cache" lines.
func dockerRule(line string, c *counter) {
	switch m := dockerStep.FindStringSubmatch(line); {
	case m != nil:
		if !strings.EqualFold(m[1], "FROM") {
			c.plain++
		}
	case line == " ---> Using cache":
		c.cache++
	}
}

// kanikoRule counts kaniko's command lines and its cache hits.
func kanikoRule(line string, c *counter) {
	switch {
	case kanikoStep.MatchString(line):
		c.plain++
	case kanikoCached.MatchString(line):
		c.cache++
	}
}
