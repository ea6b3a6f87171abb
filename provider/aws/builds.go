package aws

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/ecsbuild"
	"github.com/convox/rack/provider/aws/records"
	"github.com/convox/rack/provider/aws/stack"
)

// defaultListLimit is how many builds or releases a listing returns unless asked otherwise.
const defaultListLimit = 10

// buildItem is a build as stored: the record plus its fixed creation time, the index's range key.
type buildItem struct {
	Build   structs.Build `json:"build"`
	Created time.Time     `json:"created"`
	// Launched says BuildCreate marked the build running when its task was
	// launched; Reported that the build task has reported since (records
	// written before both fields say neither).
	Launched bool `json:"launched,omitempty"`
	Reported bool `json:"reported,omitempty"`
}

// reported says whether the build task has been heard from.
func (it buildItem) reported() bool {
	if it.Launched {
		return it.Reported
	}
	return it.Build.Status != structs.BuildStatusCreated
}

// buildTable is the stack's builds table.
func (p *Provider) buildTable() (records.Table, error) {
	return p.table(p.res.BuildsTable, "id")
}

// updateBuild changes a build record of app with a conditional write (records.Table.Update).
func (p *Provider) updateBuild(t records.Table, app, id string, change func(*buildItem) error) (*buildItem, error) {
	var it buildItem
	err := t.Update(p.ctx, id, &it, func() error {
		if it.Build.App != app {
			return notFound(fmt.Errorf("build %s not found", id))
		}
		return change(&it)
	})
	if err != nil {
		return nil, missing(err, "build", id)
	}
	return &it, nil
}

// putBuild writes a build record.
func (p *Provider) putBuild(t records.Table, it buildItem) error {
	return t.Put(p.ctx, it.Build.Id, map[string]string{"app": it.Build.App, "created": records.Created(it.Created)}, it)
}

// getBuild reads a build record of app.
func (p *Provider) getBuild(t records.Table, app, id string) (*buildItem, error) {
	var it buildItem
	if err := t.Get(p.ctx, id, &it); err != nil {
		return nil, missing(err, "build", id)
	}
	if it.Build.App != app {
		return nil, notFound(fmt.Errorf("build %s not found", id))
	}
	return &it, nil
}

// BuildCreate records a build and starts cmd/build for it as an ECS task on the
// build cluster, with the build task contract in the container overrides. The
// build is running from the moment its task is launched (as upstream racks
// have it: the convox CLI follows a build only while it runs), and watched
// from the moment it is recorded.
func (p *Provider) BuildCreate(app, url string, opts structs.BuildCreateOptions) (*structs.Build, error) {
	a, err := p.AppGet(app)
	if err != nil {
		return nil, err
	}
	st, err := p.stack()
	if err != nil {
		return nil, err
	}
	task, err := p.buildTask(st.Parameters["BuildMethod"])
	if err != nil {
		return nil, err
	}
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	login, err := p.registry.Login(p.ctx)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC()
	b := structs.Build{
		Id:             newID("B"),
		App:            app,
		Description:    deref(opts.Description),
		GitSha:         deref(opts.GitSha),
		Repository:     login.Repository(p.repositoryName(app)),
		Status:         structs.BuildStatusCreated,
		Started:        now,
		WildcardDomain: opts.WildcardDomain != nil && *opts.WildcardDomain,
	}
	env, err := p.buildSpec(st, a, b, url, opts)
	if err != nil {
		return nil, err
	}
	if env.RackURL, err = p.callback(); err != nil {
		return nil, err
	}
	env.Auth = login.AuthJSON()
	// The build id tags the task and makes RunTask idempotent: a retried call never starts a second task.
	task.StartedBy, task.ClientToken = b.Id, b.Id
	in, err := ecsbuild.RunTaskInput(task, env)
	if err != nil {
		return nil, err
	}
	if err := t.Create(p.ctx, b.Id, map[string]string{"app": b.App, "created": records.Created(now)}, buildItem{Build: b, Created: now}); err != nil {
		return nil, err
	}
	p.watch(&taskWatch{app: app, build: b.Id, table: t})
	out, err := p.ecs.RunTask(p.ctx, in)
	if err == nil && len(out.Tasks) == 0 {
		err = fmt.Errorf("no task started: %s", failures(out.Failures))
	}
	if err != nil {
		// The error text could echo the request: keep the secrets out of the record and the caller.
		msg := redact(err.Error(), env.Auth, env.RackURL, login.Password)
		reason, ended := "starting build task: "+msg, p.now().UTC()
		if _, uerr := p.updateBuild(t, app, b.Id, func(it *buildItem) error {
			return it.Build.Apply(structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusFailed), Reason: &reason, Ended: &ended})
		}); uerr != nil {
			return nil, uerr
		}
		p.unwatch(b.Id)
		return nil, fmt.Errorf("build %s: %s", b.Id, reason)
	}
	process := sdkaws.ToString(out.Tasks[0].TaskArn)
	it, err := p.updateBuild(t, app, b.Id, func(it *buildItem) error {
		it.Build.Process, it.Launched = process, true
		return it.Build.Apply(structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	})
	if err != nil {
		return nil, err
	}
	p.logf("at=build.create app=%s id=%s method=%s cache=%t task=%s", app, b.Id, task.Method, env.Cache, process)
	return &it.Build, nil
}

// buildTask is where builds of method run: the stack's cluster, the method's
// task definition and, on Fargate, the network.
func (p *Provider) buildTask(method string) (ecsbuild.Task, error) {
	m, err := buildtask.ParseMethod(method)
	if err != nil {
		return ecsbuild.Task{}, fmt.Errorf("BuildMethod: %w", err)
	}
	t := ecsbuild.Task{Method: m, Cluster: p.res.BuildCluster, TaskDefinition: p.res.BuildTaskDefinitionEc2, Container: p.res.BuildContainer}
	if m == buildtask.Fargate {
		t.TaskDefinition = p.res.BuildTaskDefinitionFargate
		t.Subnets, t.SecurityGroup = p.res.Subnets, p.res.BuildSecurityGroup
	}
	if t.Cluster == "" || t.TaskDefinition == "" {
		return t, errNoResources
	}
	return t, nil
}

// buildSpec is the build-task contract of b (without BUILD_AUTH): the
// persistent cache as the stack's parameters have it, in the repository the
// API task's environment names.
func (p *Provider) buildSpec(st *stack.Stack, a *structs.App, b structs.Build, url string, opts structs.BuildCreateOptions) (buildtask.Spec, error) {
	gen := 2
	if a.Generation == "1" {
		gen = 1
	}
	s := buildtask.Spec{
		App:         a.Name,
		ID:          b.Id,
		URL:         url,
		Push:        b.Repository,
		Generation:  gen,
		Manifest:    deref(opts.Manifest),
		Development: opts.Development != nil && *opts.Development,
		Rack:        p.rack,
		NoCache:     opts.NoCache != nil && *opts.NoCache,
		BuildArgs:   opts.BuildArgs,
	}
	if err := s.FromRack(st.Parameters, p.res.BuildCacheRepositoryURI); err != nil {
		return buildtask.Spec{}, err
	}
	return s.WithDefaults(), nil
}

// BuildGet reads a build.
func (p *Provider) BuildGet(app, id string) (*structs.Build, error) {
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	it, err := p.getBuild(t, app, id)
	if err != nil {
		return nil, err
	}
	return &it.Build, nil
}

// BuildList lists an app's builds newest first, at most opts.Limit (default 10).
func (p *Provider) BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error) {
	if _, err := p.AppGet(app); err != nil {
		return nil, err
	}
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	bs := structs.Builds{}
	err = t.Newest(p.ctx, app, limitOf(opts.Limit), func(decode func(any) error) error {
		var it buildItem
		if err := decode(&it); err != nil {
			return err
		}
		bs = append(bs, it.Build)
		return nil
	})
	return bs, err
}

// BuildUpdate applies what the build task reports under the build state rules
// (structs.Build.Apply), with a conditional write: a report racing the task
// watch never undoes the other's change, and a finished build stays finished.
func (p *Provider) BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error) {
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	it, err := p.updateBuild(t, app, id, func(it *buildItem) error {
		it.Reported = true
		return it.Build.Apply(opts)
	})
	if err != nil {
		return nil, err
	}
	return &it.Build, nil
}

// failures summarizes RunTask's failure list.
func failures(fs []ecstypes.Failure) string {
	var out []string
	for _, f := range fs {
		out = append(out, sdkaws.ToString(f.Reason)+" "+sdkaws.ToString(f.Detail))
	}
	if len(out) == 0 {
		return "no reason given"
	}
	return strings.Join(out, "; ")
}

// newID is a Convox-style id: prefix and ten random uppercase letters.
func newID(prefix string) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	buf := make([]byte, 10)
	rand.Read(buf)
	for i, c := range buf {
		buf[i] = letters[int(c)%len(letters)]
	}
	return prefix + string(buf)
}

// limitOf is a listing limit, defaulting to defaultListLimit.
func limitOf(l *int) int {
	if l == nil || *l < 1 {
		return defaultListLimit
	}
	return *l
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ptr is a pointer to v, for option structs.
func ptr[T any](v T) *T { return &v }
