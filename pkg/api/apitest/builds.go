package apitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/convox/rack/pkg/structs"
)

func newReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// defaultBuild completes every build with two log lines.
func defaultBuild(app string, opts structs.BuildCreateOptions) BuildResult {
	return BuildResult{
		Logs:   []string{"Building app " + app + "\n", "Build complete\n"},
		Status: structs.BuildStatusComplete,
	}
}

// BuildCreate starts a build that ends as p.Build decides, streaming its logs.
func (p *Provider) BuildCreate(app, url string, opts structs.BuildCreateOptions) (*structs.Build, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildCreate", app, url, opts)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	b := &structs.Build{
		Id: ID("B"), App: app, Status: structs.BuildStatusRunning, Started: now(),
		Manifest: deref(opts.Manifest), Description: deref(opts.Description), GitSha: deref(opts.GitSha),
		WildcardDomain: opts.WildcardDomain != nil && *opts.WildcardDomain,
	}
	p.builds[app] = append(p.builds[app], b)
	run := p.Build
	if run == nil {
		run = defaultBuild
	}
	go p.finish(b, run(app, opts))
	c := *b
	return &c, nil
}

// finish plays a build result: log lines a little apart, then the outcome.
func (p *Provider) finish(b *structs.Build, res BuildResult) {
	key := b.App + "/" + b.Id
	for _, line := range res.Logs {
		time.Sleep(5 * time.Millisecond)
		p.mu.Lock()
		p.logs[key] = append(p.logs[key], line...)
		p.cond.Broadcast()
		p.mu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b.Status, b.Reason, b.Cache, b.Ended = res.Status, res.Reason, res.Cache, now()
	if b.Status == "" {
		b.Status = structs.BuildStatusComplete
	}
	if b.Status == structs.BuildStatusComplete {
		b.Release = p.newRelease(b.App, b.Id, b.Description).Id
	}
	b.Logs = string(p.logs[key])
	p.cond.Broadcast()
}

func (p *Provider) findBuild(app, id string) (*structs.Build, error) {
	for _, b := range p.builds[app] {
		if b.Id == id {
			return b, nil
		}
	}
	return nil, notFound("build", id)
}

// BuildGet returns a build.
func (p *Provider) BuildGet(app, id string) (*structs.Build, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildGet", app, id)
	b, err := p.findBuild(app, id)
	if err != nil {
		return nil, err
	}
	c := *b
	return &c, nil
}

// BuildList lists builds newest first.
func (p *Provider) BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildList", app, opts)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	bs := structs.Builds{}
	for i := len(p.builds[app]) - 1; i >= 0; i-- {
		if opts.Limit != nil && len(bs) >= *opts.Limit {
			break
		}
		bs = append(bs, *p.builds[app][i])
	}
	return bs, nil
}

// BuildUpdate applies what a build task reports.
func (p *Provider) BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildUpdate", app, id, opts)
	b, err := p.findBuild(app, id)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&b.Entrypoint, opts.Entrypoint)
	set(&b.Logs, opts.Logs)
	set(&b.Manifest, opts.Manifest)
	set(&b.Reason, opts.Reason)
	set(&b.Release, opts.Release)
	set(&b.Status, opts.Status)
	opts.ApplyReuse(b)
	if opts.Started != nil {
		b.Started = *opts.Started
	}
	if opts.Ended != nil {
		b.Ended = *opts.Ended
	}
	if opts.Cache != nil {
		if err := json.Unmarshal([]byte(*opts.Cache), &b.Cache); err != nil {
			return nil, fmt.Errorf("cache summary: %v: %w", err, structs.ErrInvalid)
		}
	}
	p.cond.Broadcast()
	c := *b
	return &c, nil
}

// BuildLogs streams the logs of a build until it ends (or at once with Follow=false).
func (p *Provider) BuildLogs(app, id string, opts structs.LogsOptions) (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildLogs", app, id, opts)
	if _, err := p.findBuild(app, id); err != nil {
		return nil, err
	}
	follow := opts.Follow == nil || *opts.Follow
	return &logReader{p: p, app: app, id: id, follow: follow}, nil
}

type logReader struct {
	p       *Provider
	app, id string
	follow  bool
	off     int
	closed  bool
}

func (r *logReader) Read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		logs := p.logs[r.app+"/"+r.id]
		switch {
		case r.closed:
			return 0, io.EOF
		case r.off < len(logs):
			n := copy(b, logs[r.off:])
			r.off += n
			return n, nil
		}
		bd, _ := p.findBuild(r.app, r.id)
		if !r.follow || bd == nil || bd.Terminal() {
			return 0, io.EOF
		}
		p.cond.Wait()
	}
}

func (r *logReader) Close() error {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.closed = true
	r.p.cond.Broadcast()
	return nil
}

// exported is the archive format of this fake: build.json in a gzipped tar.
type exported struct {
	Build structs.Build `json:"build"`
}

// BuildExport writes a build archive.
func (p *Provider) BuildExport(app, id string, w io.Writer) error {
	p.mu.Lock()
	p.record("BuildExport", app, id)
	b, err := p.findBuild(app, id)
	var data []byte
	if err == nil {
		data, err = json.Marshal(exported{Build: *b})
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "build.json", Mode: 0o644, Size: int64(len(data))}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return gz.Close()
}

// BuildImport creates a complete build (and its release) from an archive.
func (p *Provider) BuildImport(app string, r io.Reader) (*structs.Build, error) {
	var ex exported
	if err := readArchive(r, &ex); err != nil {
		return nil, fmt.Errorf("import: %w: %w", err, structs.ErrInvalid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record("BuildImport", app, ex.Build.Id)
	if _, ok := p.apps[app]; !ok {
		return nil, notFound("app", app)
	}
	b := ex.Build
	b.Id, b.App, b.Status, b.Started, b.Ended = ID("B"), app, structs.BuildStatusComplete, now(), now()
	b.Release = p.newRelease(app, b.Id, b.Description).Id
	p.builds[app] = append(p.builds[app], &b)
	c := b
	return &c, nil
}

func readArchive(r io.Reader, ex *exported) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("no build.json in archive: %w", err)
		}
		if h.Name == "build.json" {
			return json.NewDecoder(tr).Decode(ex)
		}
	}
}

func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}
