package aws_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
)

var (
	rackBinaryOnce sync.Once
	rackBinaryPath string
	rackBinaryErr  error
)

// rackBinary builds cmd/rack once per test binary run.
func rackBinary(t *testing.T) string {
	t.Helper()
	rackBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convox-rack-bin-")
		if err != nil {
			rackBinaryErr = err
			return
		}
		rackBinaryPath = filepath.Join(dir, "rack")
		cmd := exec.Command("go", "build", "-trimpath", "-o", rackBinaryPath, "./cmd/rack")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			rackBinaryErr = fmt.Errorf("go build ./cmd/rack: %v: %s", err, out)
		}
	})
	require.NoError(t, rackBinaryErr)
	return rackBinaryPath
}

// apiProcess is cmd/rack running as the stack's API task would.
type apiProcess struct {
	// URL is the API without credentials; Env the environment it was started with.
	URL string
	Env map[string]string
	log *testenv.SyncBuffer
}

// startAPI runs cmd/rack with exactly the environment the API task
// definition in rack.json gives it (apiEnvironment), plus what the platform
// and the test add: the AWS endpoint and credentials (the task role's, on
// ECS) and a loopback address instead of 0.0.0.0:5443.
func (r *rack) startAPI() *apiProcess {
	r.t.Helper()
	env := r.apiEnvironment()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(r.t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	require.Equal(r.t, "0.0.0.0", env["BIND"], "the task definition binds every address")
	env["BIND"], env["PORT"] = "127.0.0.1", fmt.Sprint(port)
	platform := map[string]string{
		"AWS_ENDPOINT_URL": r.moto.Endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true", "PATH": os.Getenv("PATH"), "HOME": r.t.TempDir(),
	}
	vars := make([]string, 0, len(env)+len(platform))
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	for k, v := range platform {
		_, clash := env[k]
		require.False(r.t, clash, "the task definition sets %s", k)
		vars = append(vars, k+"="+v)
	}
	sort.Strings(vars)
	scheme := "http"
	if env["RACK_TLS"] != "" {
		scheme = "https" // the API serves TLS itself (a certificate it generates)
	}
	p := &apiProcess{URL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, port), Env: env, log: &testenv.SyncBuffer{}}
	cmd := exec.Command(rackBinary(r.t))
	cmd.Env, cmd.Stdout, cmd.Stderr = vars, p.log, p.log
	require.NoError(r.t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if r.t.Failed() {
			r.t.Logf("rack API log:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			require.Failf(r.t, "cmd/rack exited", "%v\n%s", err, p.log)
		default:
		}
		if res, err := insecureClient.Get(p.URL + "/check"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		require.True(r.t, time.Now().Before(deadline), "cmd/rack did not answer /check within 30s:\n%s", p.log)
		time.Sleep(100 * time.Millisecond)
	}
}

// insecureClient talks to an API whose certificate it generated itself, as the convox CLI does.
var insecureClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a rack's own certificate

// client is an SDK client of the API with password.
func (p *apiProcess) client(t *testing.T, password string) *sdk.Client {
	t.Helper()
	c, err := sdk.New(strings.Replace(p.URL, "://", "://convox:"+password+"@", 1))
	require.NoError(t, err)
	return c
}

// taskPlayer plays the build tasks moto never runs. It finds each task the
// rack API started on the build cluster, parses its container overrides with
// the build-task contract as cmd/build does, and reports to the rack API what
// cmd/build reports, in pkg/build's order: running, its log lines (to the
// task's CloudWatch stream, as the awslogs driver would), the manifest, the
// service summary, a release, the logs object, complete. For a task die
// names a reason for, cmd/build starts and then ECS stops the task with that reason.
type taskPlayer struct {
	r    *rack
	api  *sdk.Client
	die  func(spec buildtask.Spec) string
	mu   sync.Mutex
	seen map[string]bool
	errs []error
}

// playTasks starts a player until the test ends.
func (r *rack) playTasks(api *sdk.Client, die func(buildtask.Spec) string) *taskPlayer {
	r.t.Helper()
	tp := &taskPlayer{r: r, api: api, die: die, seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			tp.round(ctx)
			time.Sleep(100 * time.Millisecond)
		}
	}()
	r.t.Cleanup(func() {
		cancel()
		<-done
		tp.mu.Lock()
		defer tp.mu.Unlock()
		for _, err := range tp.errs {
			r.t.Errorf("build task player: %v", err)
		}
	})
	return tp
}

// round plays every task not seen yet.
func (tp *taskPlayer) round(ctx context.Context) {
	client := ecs.NewFromConfig(tp.r.cfg)
	cluster := tp.r.resources().BuildCluster
	list, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: sdkaws.String(cluster)})
	if err != nil || len(list.TaskArns) == 0 {
		return
	}
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(cluster), Tasks: list.TaskArns})
	if err != nil {
		return
	}
	for _, task := range out.Tasks {
		arn := sdkaws.ToString(task.TaskArn)
		if tp.seen[arn] || sdkaws.ToString(task.LastStatus) == "STOPPED" || task.Overrides == nil || len(task.Overrides.ContainerOverrides) != 1 {
			continue
		}
		tp.seen[arn] = true
		o := task.Overrides.ContainerOverrides[0]
		env := map[string]string{}
		for _, kv := range o.Environment {
			env[sdkaws.ToString(kv.Name)] = sdkaws.ToString(kv.Value)
		}
		spec, err := buildtask.Parse(o.Command, func(k string) string { return env[k] })
		if err == nil {
			err = tp.play(ctx, arn, spec)
		}
		if err != nil && ctx.Err() == nil {
			tp.mu.Lock()
			tp.errs = append(tp.errs, fmt.Errorf("task %s: %w", arn, err))
			tp.mu.Unlock()
		}
	}
}

// play is one build task's life.
func (tp *taskPlayer) play(ctx context.Context, arn string, spec buildtask.Spec) error {
	started := time.Now().UTC()
	if _, err := tp.api.BuildUpdate(spec.App, spec.ID, structs.BuildUpdateOptions{Started: &started, Status: ptr(structs.BuildStatusRunning)}); err != nil {
		return fmt.Errorf("reporting build start: %w", err)
	}
	lines := []string{"Building: web", "Step 1/2 : FROM busybox", "Step 2/2 : COPY . /app"}
	if reason := tp.die(spec); reason != "" {
		tp.logLines(ctx, arn, lines[:1])
		_, err := ecs.NewFromConfig(tp.r.cfg).StopTask(ctx, &ecs.StopTaskInput{
			Cluster: sdkaws.String(tp.r.resources().BuildCluster), Task: sdkaws.String(arn), Reason: sdkaws.String(reason),
		})
		return err
	}
	summary := []structs.BuildServiceSummary{{Service: "web", Steps: 2, Cached: 0, Seconds: 0.4, PersistentCache: spec.Cache}}
	lines = append(lines, "Service web: 2 steps, 0 cached, 0.4s (no cache)", "Build complete")
	tp.logLines(ctx, arn, lines)
	manifest := "services:\n  web:\n    build: .\n"
	if _, err := tp.api.BuildUpdate(spec.App, spec.ID, structs.BuildUpdateOptions{Manifest: &manifest}); err != nil {
		return err
	}
	data, _ := json.Marshal(summary)
	if _, err := tp.api.BuildUpdate(spec.App, spec.ID, structs.BuildUpdateOptions{Cache: ptr(string(data))}); err != nil {
		return err
	}
	rel, err := tp.api.ReleaseCreate(spec.App, structs.ReleaseCreateOptions{Build: ptr(spec.ID)})
	if err != nil {
		return err
	}
	obj, err := tp.api.ObjectStore(spec.App, "build/"+spec.ID+"/logs", strings.NewReader(strings.Join(lines, "\n")+"\n"), structs.ObjectStoreOptions{})
	if err != nil {
		return err
	}
	ended := time.Now().UTC()
	_, err = tp.api.BuildUpdate(spec.App, spec.ID, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusComplete), Release: &rel.Id, Logs: &obj.Url, Ended: &ended})
	return err
}

// logLines writes lines to a task's CloudWatch stream, as the awslogs driver would.
func (tp *taskPlayer) logLines(ctx context.Context, arn string, lines []string) {
	logs := cloudwatchlogs.NewFromConfig(tp.r.cfg)
	group := tp.r.resources().BuildLogGroup
	stream := "build/build/" + arn[strings.LastIndex(arn, "/")+1:]
	logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: sdkaws.String(group), LogStreamName: sdkaws.String(stream)})
	var events []logtypes.InputLogEvent
	for _, l := range lines {
		events = append(events, logtypes.InputLogEvent{Message: sdkaws.String(l), Timestamp: sdkaws.Int64(time.Now().UnixMilli())})
	}
	logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: sdkaws.String(group), LogStreamName: sdkaws.String(stream), LogEvents: events})
}
