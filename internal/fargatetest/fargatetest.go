// Package fargatetest runs build tasks as the local rack's fargate runner
// does (a fresh runc container as strict as the template's Fargate task), for
// tests and the bench that keep their builds in an in-memory rack: the rack is
// served over the rack API on loopback, and cmd/build in the container reports
// to it, as a Fargate task reports to RackUrl.
package fargatetest

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/formation"
	"github.com/convox/rack/provider/local/builder"
)

// Rack is the part of the rack API a build task calls.
type Rack interface {
	BuildGet(app, id string) (*structs.Build, error)
	BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error)
	BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error)
	ObjectFetch(app, key string) (io.ReadCloser, error)
	ObjectStore(app, key string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error)
	ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error)
}

// provider serves Rack as a structs.Provider; a build task calls nothing else.
type provider struct {
	structs.Provider
	r Rack
}

func (p provider) BuildGet(app, id string) (*structs.Build, error) { return p.r.BuildGet(app, id) }
func (p provider) BuildList(app string, o structs.BuildListOptions) (structs.Builds, error) {
	return p.r.BuildList(app, o)
}
func (p provider) BuildUpdate(app, id string, o structs.BuildUpdateOptions) (*structs.Build, error) {
	return p.r.BuildUpdate(app, id, o)
}
func (p provider) ObjectFetch(app, key string) (io.ReadCloser, error) {
	return p.r.ObjectFetch(app, key)
}
func (p provider) ObjectStore(app, key string, r io.Reader, o structs.ObjectStoreOptions) (*structs.Object, error) {
	return p.r.ObjectStore(app, key, r, o)
}
func (p provider) ReleaseCreate(app string, o structs.ReleaseCreateOptions) (*structs.Release, error) {
	return p.r.ReleaseCreate(app, o)
}

// Runner runs build tasks against one rack.
type Runner struct {
	url  string
	runc *builder.Runc
}

// New serves rack on a loopback port until the test ends and prepares the
// runner from the pinned tools and this tree's build binary.
func New(t testing.TB, rack Rack) *Runner {
	t.Helper()
	runc := testenv.Tool(t, "runc")
	executor := testenv.Tool(t, "executor")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root privileges for runc")
	}
	c, err := formation.BuildTaskContainer(formation.Stack{Name: "rack1", Params: map[string]string{
		"BuildMethod": "fargate", "BuildCache": "Yes", "ImageRegistry": "local", "Password": "local"}}, "fargate")
	require.NoError(t, err, "reading the fargate build task from the template")
	const password = "fargatetest"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: api.New(provider{r: rack}, password, api.WithLog(io.Discard))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	certs := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(certs); err != nil {
		certs = ""
	}
	return &Runner{
		url: "http://convox:" + password + "@" + ln.Addr().String(),
		runc: &builder.Runc{Runc: runc, StateRoot: filepath.Join(dir, "runc"), BundleRoot: filepath.Join(dir, "bundles"),
			Executor: executor, Build: testenv.BuildBinary(t), Busybox: testenv.BusyboxPath(t), CACerts: certs,
			Task: builder.FargateTask{Env: c.Env, Deployed: c.Deployed, CapAdd: c.CapAdd}, Env: os.Environ()},
	}
}

// Run runs the build task of spec to its end, its output to out.
func (r *Runner) Run(ctx context.Context, spec buildtask.Spec, out io.Writer) error {
	env := append(spec.Environ(), "RACK_URL="+r.url)
	return r.runc.Run(ctx, builder.Task{ID: spec.ID, Env: env, Args: spec.Args(), Out: out})
}

// Exec runs args in a fresh container of the same kind, with copies (host
// path: path in the rootfs) copied in: bare kaniko beside the product.
func (r *Runner) Exec(ctx context.Context, id string, args []string, copies map[string]string, out io.Writer) error {
	return r.runc.Exec(ctx, id, args, copies, out)
}
