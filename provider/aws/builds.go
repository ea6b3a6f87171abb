package aws

import (
	"crypto/rand"
	"encoding/json"
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
}

// builds is the stack's builds table.
func (p *Provider) builds(st *stack.Stack) (records.Table, error) {
	return p.table(st, "BuildsTable", "id")
}

// buildTable is the builds table of the rack's stack.
func (p *Provider) buildTable() (records.Table, error) {
	st, err := p.stack()
	if err != nil {
		return records.Table{}, err
	}
	return p.builds(st)
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
// build cluster, with the build task contract in the container overrides.
func (p *Provider) BuildCreate(app, url string, opts structs.BuildCreateOptions) (*structs.Build, error) {
	a, err := p.AppGet(app)
	if err != nil {
		return nil, err
	}
	st, err := p.stack()
	if err != nil {
		return nil, err
	}
	task, err := buildTaskOf(st)
	if err != nil {
		return nil, err
	}
	t, err := p.builds(st)
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
		Repository:     login.Repository(p.repositoryName(st, app)),
		Status:         structs.BuildStatusCreated,
		Started:        now,
		WildcardDomain: opts.WildcardDomain != nil && *opts.WildcardDomain,
	}
	env, err := p.buildSpec(st, a, b, url, opts)
	if err != nil {
		return nil, err
	}
	env.Auth = login.AuthJSON()
	task.StartedBy = b.Id
	in, err := ecsbuild.RunTaskInput(task, env)
	if err != nil {
		return nil, err
	}
	it := buildItem{Build: b, Created: now}
	if err := p.putBuild(t, it); err != nil {
		return nil, err
	}
	out, err := p.ecs.RunTask(p.ctx, in)
	if err == nil && len(out.Tasks) == 0 {
		err = fmt.Errorf("no task started: %s", failures(out.Failures))
	}
	if err != nil {
		// The error text could echo the request: keep the secrets out of the record and the caller.
		msg := redact(err.Error(), env.Auth, env.RackURL, login.Password)
		it.Build.Status, it.Build.Reason, it.Build.Ended = structs.BuildStatusFailed, "starting build task: "+msg, p.now().UTC()
		if perr := p.putBuild(t, it); perr != nil {
			return nil, perr
		}
		return nil, fmt.Errorf("build %s: starting build task: %s", b.Id, msg)
	}
	it.Build.Process = sdkaws.ToString(out.Tasks[0].TaskArn)
	if err := p.putBuild(t, it); err != nil {
		return nil, err
	}
	p.logf("at=build.create app=%s id=%s method=%s cache=%t task=%s", app, b.Id, task.Method, env.Cache, it.Build.Process)
	p.watch(&taskWatch{app: app, build: b.Id, cluster: task.Cluster, task: it.Build.Process, container: task.Container, table: t})
	return &it.Build, nil
}

// buildTaskOf is where builds run, from the stack's BuildMethod and outputs.
func buildTaskOf(st *stack.Stack) (ecsbuild.Task, error) {
	method, err := buildtask.ParseMethod(st.Parameters["BuildMethod"])
	if err != nil {
		return ecsbuild.Task{}, fmt.Errorf("BuildMethod: %w", err)
	}
	def := "BuildTaskDefinitionEc2"
	if method == buildtask.Fargate {
		def = "BuildTaskDefinitionFargate"
	}
	t := ecsbuild.Task{Method: method}
	for _, o := range []struct {
		name string
		dst  *string
	}{{"BuildCluster", &t.Cluster}, {def, &t.TaskDefinition}, {"BuildContainerName", &t.Container}} {
		v, err := st.Output(o.name)
		if err != nil {
			return t, err
		}
		*o.dst = v
	}
	if method == buildtask.Fargate {
		for _, s := range strings.Split(st.Outputs["Subnets"], ",") {
			if s = strings.TrimSpace(s); s != "" {
				t.Subnets = append(t.Subnets, s)
			}
		}
		t.SecurityGroup = st.Outputs["BuildSecurityGroup"]
	}
	return t, nil
}

// buildSpec is the build-task contract of b (without BUILD_AUTH): the
// persistent cache as the stack's parameters and outputs have it.
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
		RackURL:     p.rackURL,
		NoCache:     opts.NoCache != nil && *opts.NoCache,
		BuildArgs:   opts.BuildArgs,
	}
	if err := s.FromRack(st.Parameters, st.Outputs["BuildCacheRepositoryUri"]); err != nil {
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

// BuildUpdate applies what the build task reports.
func (p *Provider) BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error) {
	t, err := p.buildTable()
	if err != nil {
		return nil, err
	}
	it, err := p.getBuild(t, app, id)
	if err != nil {
		return nil, err
	}
	b := &it.Build
	if opts.Cache != nil {
		var cache []structs.BuildServiceSummary
		if err := json.Unmarshal([]byte(*opts.Cache), &cache); err != nil {
			return nil, invalid(fmt.Errorf("build cache summary: %w", err))
		}
		b.Cache = cache
	}
	if opts.Status != nil {
		switch *opts.Status {
		case structs.BuildStatusCreated, structs.BuildStatusRunning, structs.BuildStatusComplete, structs.BuildStatusFailed:
		default:
			return nil, invalid(fmt.Errorf("build status %q: created, running, complete or failed expected", *opts.Status))
		}
	}
	setString(&b.Entrypoint, opts.Entrypoint)
	setString(&b.Logs, opts.Logs)
	setString(&b.Manifest, opts.Manifest)
	setString(&b.Reason, opts.Reason)
	setString(&b.Release, opts.Release)
	setString(&b.Status, opts.Status)
	opts.ApplyReuse(b)
	if opts.Started != nil {
		b.Started = *opts.Started
	}
	if opts.Ended != nil {
		b.Ended = *opts.Ended
	}
	if err := p.putBuild(t, *it); err != nil {
		return nil, err
	}
	return b, nil
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

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
