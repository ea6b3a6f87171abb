// Package build is the build task: it fetches an app's source through the
// rack API, builds every service through one loop over an engine, pushes the
// images, and reports progress, cache use and the release back to the rack.
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/convox/rack/pkg/build/engine"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/pkg/tarball"
)

// Rack is the part of the rack API a build needs.
type Rack interface {
	BuildGet(app, id string) (*structs.Build, error)
	BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error)
	BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error)
	ObjectFetch(app, key string) (io.ReadCloser, error)
	ObjectStore(app, key string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error)
	ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error)
}

// Options are one build's settings: the build-task contract the provider
// passed, and how this host runs the build.
type Options struct {
	buildtask.Spec
	// WorkDir (BUILD_WORKDIR) is where the build's work directory, holding
	// the extracted source, is made (default the temporary directory). In
	// the fargate image it is /workspace, in the container's own filesystem:
	// kaniko is told to ignore the build's directory (--ignore-path).
	WorkDir string
	// Engine is how engines reach docker, BuildKit and kaniko.
	Engine engine.Config
	// Limits bound the source tarball.
	Limits tarball.Limits
	// NoReuse builds even when an earlier build had the same inputs: for
	// measuring the engines (the bench), never set by cmd/build.
	NoReuse bool
}

// Run performs the build and reports it; a failed build is reported as
// failed (with its logs) and returned as an error.
func Run(ctx context.Context, rack Rack, opts Options, logs io.Writer) error {
	if logs == nil {
		logs = io.Discard
	}
	buf := &lockedBuffer{}
	b := &builder{rack: rack, opts: opts.withDefaults(), out: io.MultiWriter(logs, buf), log: buf, rewritten: map[string]string{}}
	started := time.Now().UTC()
	if _, err := rack.BuildUpdate(opts.App, opts.ID, structs.BuildUpdateOptions{Started: &started, Status: ptr(structs.BuildStatusRunning)}); err != nil {
		return fmt.Errorf("reporting build start: %w", err)
	}
	err := b.run(ctx)
	if err != nil {
		fmt.Fprintf(b.out, "ERROR: %v\n", err)
		b.finish(structs.BuildStatusFailed, err.Error())
		return err
	}
	if err := b.finish(structs.BuildStatusComplete, ""); err != nil {
		return err
	}
	return nil
}

func (o Options) withDefaults() Options {
	o.Spec = o.Spec.WithDefaults()
	return o
}

// builder is one build in progress.
type builder struct {
	rack    Rack
	opts    Options
	out     io.Writer
	log     *lockedBuffer
	summary []structs.BuildServiceSummary
	release string
	logins  map[string]engine.Login // every registry login of this build
	// rewritten are the Dockerfiles the fargate check rewrote for kaniko,
	// by group key (see groupKey).
	rewritten map[string]string
}

func (b *builder) run(ctx context.Context) error {
	if err := b.opts.Validate(); err != nil {
		return err
	}
	work, err := b.workDir()
	if err != nil {
		return err
	}
	defer tarball.RemoveAll(work) // read-only directories of the source included
	src := filepath.Join(work, "src")
	// the builder boots while the source is fetched and read
	pending := b.startEngine(ctx)
	services, err := b.fetchAndRead(work)
	if err != nil {
		pending.discard()
		return err
	}
	// Before any build work: what kaniko cannot build fails here, up front.
	if err := b.checkFargate(work, src, services); err != nil {
		pending.discard()
		return err
	}
	if reused, err := b.reuse(ctx, work, src, services); err != nil || reused {
		pending.discard()
		if err != nil {
			return err
		}
		return b.createRelease()
	}
	if err := b.buildAll(ctx, work, src, services, pending); err != nil {
		return err
	}
	return b.createRelease()
}

// fetchAndRead fetches the source into work/src, reads its manifest and reports it.
func (b *builder) fetchAndRead(work string) ([]service, error) {
	src := filepath.Join(work, "src")
	if err := b.fetch(src); err != nil {
		return nil, err
	}
	services, manifest, err := loadServices(src, b.opts.Manifest, b.opts.Generation)
	if err != nil {
		return nil, err
	}
	if _, err := b.rack.BuildUpdate(b.opts.App, b.opts.ID, structs.BuildUpdateOptions{Manifest: ptr(string(manifest))}); err != nil {
		return nil, fmt.Errorf("reporting manifest: %w", err)
	}
	return services, nil
}

func (b *builder) workDir() (string, error) {
	parent := b.opts.WorkDir
	if parent != "" {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", fmt.Errorf("creating work directory: %w", err)
		}
	}
	dir, err := os.MkdirTemp(parent, "build-"+b.opts.ID+"-")
	if err != nil {
		return "", fmt.Errorf("creating work directory: %w", err)
	}
	return dir, nil
}

// fetch downloads the source object and extracts it safely into dir.
func (b *builder) fetch(dir string) error {
	app, key, err := objectKey(b.opts.URL)
	if err != nil {
		return err
	}
	if app == "" {
		app = b.opts.App
	}
	fmt.Fprintf(b.out, "Fetching source %s\n", b.opts.URL)
	r, err := b.rack.ObjectFetch(app, key)
	if err != nil {
		return fmt.Errorf("fetching source: %w", err)
	}
	defer r.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := tarball.Extract(r, dir, b.opts.Limits); err != nil {
		return fmt.Errorf("extracting source: %w", err)
	}
	return nil
}

// objectKey splits object://{app}/{key}; a bare key is the build's app.
func objectKey(url string) (string, string, error) {
	rest, ok := strings.CutPrefix(url, "object://")
	if !ok {
		return "", "", fmt.Errorf("source url %q is not an object:// url", url)
	}
	app, key, ok := strings.Cut(rest, "/")
	if !ok || key == "" {
		return "", "", fmt.Errorf("source url %q has no key", url)
	}
	return app, key, nil
}

func (b *builder) createRelease() error {
	r, err := b.rack.ReleaseCreate(b.opts.App, structs.ReleaseCreateOptions{Build: ptr(b.opts.ID)})
	if err != nil {
		return fmt.Errorf("creating release: %w", err)
	}
	// the CLI prints the build and release ids once the build completes
	b.release = r.Id
	return nil
}

// finish stores the logs and the final status; for a failure, the reason.
func (b *builder) finish(status, reason string) error {
	ended := time.Now().UTC()
	upd := structs.BuildUpdateOptions{Ended: &ended, Status: &status}
	if reason != "" {
		upd.Reason = &reason
	}
	if b.release != "" {
		upd.Release = &b.release
	}
	key := fmt.Sprintf("build/%s/logs", b.opts.ID)
	obj, err := b.rack.ObjectStore(b.opts.App, key, bytes.NewReader(b.log.Bytes()), structs.ObjectStoreOptions{})
	if err == nil {
		upd.Logs = &obj.Url
	}
	if _, uerr := b.rack.BuildUpdate(b.opts.App, b.opts.ID, upd); uerr != nil {
		return errors.Join(fmt.Errorf("reporting build %s: %w", status, uerr), err)
	}
	if err != nil {
		return fmt.Errorf("storing logs: %w", err)
	}
	return nil
}

// lockedBuffer keeps the build log for the logs object.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.buf.Bytes()...)
}

func ptr[T any](v T) *T { return &v }
