// Package engine builds one image and pushes it, with buildx (ec2), plain
// docker build (ec2 without buildx) or kaniko (fargate), behind one interface.
package engine

import (
	"context"
	"io"

	"github.com/convox/rack/pkg/build/cachepolicy"
)

// Engine builds and pushes images; the build loop knows nothing else about it.
type Engine interface {
	// Name names the engine in logs: buildx, docker or kaniko.
	Name() string
	// Build builds req, pushes it to every tag and counts its steps.
	Build(ctx context.Context, req Request, out io.Writer) (Result, error)
	// Close releases what the engine set up (temporary builders, files).
	Close() error
}

// Request is one image build, shared by every service in Services.
type Request struct {
	// Services share this build.
	Services []string
	// Root is the extracted source; Context and Dockerfile lie inside it.
	Root string
	// Context is the build context directory.
	Context string
	// Dockerfile is the Dockerfile path.
	Dockerfile string
	// Target is the stage to build, "" for the last.
	Target string
	// Args are the NAME=value build args the Dockerfile declares.
	Args []string
	// Tags are the full references to push, e.g. 127.0.0.1:5000/app:web.BABC.
	Tags []string
	// Bases are the external images the Dockerfile starts from.
	Bases []string
	// Policy decides the cache flags.
	Policy cachepolicy.Policy
	// CacheRefs are the registry cache refs the ec2 method reads and writes.
	CacheRefs cachepolicy.Refs
	// Last says no other build follows on this engine: the build task ends
	// after it. Kaniko then leaves its filesystem as it is (no --cleanup),
	// since the container is thrown away.
	Last bool
}

// Result counts what a build did.
type Result struct {
	// Steps is the number of Dockerfile steps run or reused.
	Steps int
	// Cached is how many of them came from a cache.
	Cached int
}
