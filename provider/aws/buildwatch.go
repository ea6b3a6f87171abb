package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/records"
)

// Defaults of the build task watch.
const (
	// defaultWatchInterval is how often running build tasks are checked; a
	// task that dies fails its build within about this long.
	defaultWatchInterval = 10 * time.Second
	// defaultStartTimeout is how long a build may go without a report from
	// cmd/build (or without a task) before its task is stopped: no capacity,
	// an image that cannot be pulled, a build binary that dies at once.
	defaultStartTimeout = 10 * time.Minute
	// defaultMissingTimeout is how long DescribeTasks may answer MISSING for
	// a build's task before the build fails: ECS is eventually consistent, and
	// right after RunTask it may not know the task yet.
	defaultMissingTimeout = time.Minute
	// maxMissingBackoff bounds the wait between two looks at a MISSING task.
	maxMissingBackoff = 15 * time.Second
	// describeBatch is the most tasks one DescribeTasks call takes.
	describeBatch = 100
)

// WithWatchInterval sets how often the provider checks the ECS tasks of running builds.
func WithWatchInterval(d time.Duration) Option { return func(p *Provider) { p.watchEvery = d } }

// WithStartTimeout sets how long a build may wait for cmd/build to report before its task is stopped.
func WithStartTimeout(d time.Duration) Option { return func(p *Provider) { p.startTimeout = d } }

// WithMissingTimeout sets how long ECS may not know a build's task before the build fails.
func WithMissingTimeout(d time.Duration) Option { return func(p *Provider) { p.missingTimeout = d } }

// taskWatch is one build watched until it ends. Its task is read from the
// build's record at every round, so a build whose task is not recorded yet is
// watched too.
type taskWatch struct {
	app, build string
	table      records.Table
	// task is the build's task as last read from its record.
	task string
	// missingSince is when ECS first answered MISSING for task; zero while it knows it.
	missingSince time.Time
	// backoff is the wait after the last MISSING answer; next is when to look again.
	backoff time.Duration
	next    time.Time
}

// watcher tracks the build tasks the provider started (or found running on
// Watch) and fails a build whose task stops before the build reports its end.
type watcher struct {
	mu      sync.Mutex
	builds  map[string]*taskWatch // by build id
	running bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Watch picks up every build of the rack that has not ended, whatever its
// state, and watches it, so a rack API that restarts mid-build still ends
// every build. BuildCreate watches the builds it starts without it.
func (p *Provider) Watch() error {
	t, err := p.buildTable()
	if err != nil {
		return err
	}
	n := 0
	err = t.All(p.ctx, func(decode func(any) error) error {
		var it buildItem
		if err := decode(&it); err != nil {
			return err
		}
		if it.Build.Terminal() {
			return nil
		}
		n++
		p.watch(&taskWatch{app: it.Build.App, build: it.Build.Id, table: t})
		return nil
	})
	if err != nil {
		return fmt.Errorf("finding running builds: %w", err)
	}
	p.logf("at=watch.resume builds=%d", n)
	p.startWatch()
	return nil
}

// Close stops watching build tasks and waits for the watch to return.
func (p *Provider) Close() error {
	w := &p.watcher
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.running = false
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// watch adds a build's task to the watch and makes sure the watch runs.
func (p *Provider) watch(tw *taskWatch) {
	p.watcher.mu.Lock()
	if p.watcher.builds == nil {
		p.watcher.builds = map[string]*taskWatch{}
	}
	p.watcher.builds[tw.build] = tw
	p.watcher.mu.Unlock()
	p.startWatch()
}

// startWatch starts the watch loop once.
func (p *Provider) startWatch() {
	w := &p.watcher
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return
	}
	ctx, cancel := context.WithCancel(p.ctx)
	w.running, w.cancel, w.done = true, cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		ticker := time.NewTicker(p.watchEvery)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				p.checkTasks(ctx)
			}
		}
	}(w.done)
}

// watched is a snapshot of the watched builds.
func (p *Provider) watched() []*taskWatch {
	p.watcher.mu.Lock()
	defer p.watcher.mu.Unlock()
	out := make([]*taskWatch, 0, len(p.watcher.builds))
	for _, tw := range p.watcher.builds {
		out = append(out, tw)
	}
	return out
}

// unwatch drops a build from the watch.
func (p *Provider) unwatch(id string) {
	p.watcher.mu.Lock()
	defer p.watcher.mu.Unlock()
	delete(p.watcher.builds, id)
}

// watchedTask is a watched build with its record, read this round.
type watchedTask struct {
	tw *taskWatch
	it buildItem
}

// checkTasks looks at every watched build once; errors are logged and the next round tries again.
func (p *Provider) checkTasks(ctx context.Context) {
	var due []watchedTask
	for _, tw := range p.watched() {
		var it buildItem
		err := tw.table.Get(ctx, tw.build, &it)
		switch {
		case errors.Is(err, records.ErrNotFound), err == nil && it.Build.Terminal():
			p.unwatch(tw.build) // deleted with its app, or ended
		case err != nil:
			if ctx.Err() == nil {
				p.logf("at=watch.read app=%s id=%s error=%q", tw.app, tw.build, err)
			}
		case it.Build.Process == "":
			// No task recorded yet: RunTask is under way, or the API died before it recorded the task.
			if p.now().Sub(it.Created) > p.startTimeout {
				p.report(ctx, tw, p.failBuild(ctx, tw, &it, fmt.Sprintf("no build task was started within %s", p.startTimeout), time.Time{}))
			}
		default:
			if tw.task != it.Build.Process {
				tw.task, tw.missingSince, tw.backoff = it.Build.Process, time.Time{}, 0
			}
			if p.now().Before(tw.next) {
				continue
			}
			due = append(due, watchedTask{tw, it})
		}
	}
	for start := 0; start < len(due); start += describeBatch {
		batch := due[start:min(start+describeBatch, len(due))]
		arns := make([]string, len(batch))
		for i, w := range batch {
			arns[i] = w.tw.task
		}
		out, err := p.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(p.res.BuildCluster), Tasks: arns})
		if err != nil {
			if ctx.Err() == nil {
				p.logf("at=watch.describe cluster=%s error=%q", p.res.BuildCluster, err)
			}
			continue
		}
		// By task id: an ARN may come back in the other (short or long) format.
		tasks := map[string]ecstypes.Task{}
		for _, t := range out.Tasks {
			tasks[taskID(sdkaws.ToString(t.TaskArn))] = t
		}
		missing := map[string]string{}
		for _, f := range out.Failures {
			missing[taskID(sdkaws.ToString(f.Arn))] = sdkaws.ToString(f.Reason)
		}
		for _, w := range batch {
			task, found := tasks[taskID(w.tw.task)]
			p.report(ctx, w.tw, p.checkTask(ctx, w.tw, &w.it, task, found, missing[taskID(w.tw.task)]))
		}
	}
}

// report logs what went wrong checking one build, unless the watch is stopping.
func (p *Provider) report(ctx context.Context, tw *taskWatch, err error) {
	if err != nil && ctx.Err() == nil {
		p.logf("at=watch.check app=%s id=%s error=%q", tw.app, tw.build, err)
	}
}

// checkTask decides one build from its task: a task ECS does not know is
// looked at again with backoff, and fails its build once it stayed unknown for
// the missing timeout; a stopped task fails its build with the reason ECS
// gives; a build that never reported within the start timeout has its task
// stopped and fails.
func (p *Provider) checkTask(ctx context.Context, tw *taskWatch, it *buildItem, task ecstypes.Task, found bool, failure string) error {
	if !found {
		now := p.now()
		if tw.missingSince.IsZero() {
			tw.missingSince = now
		}
		if gone := now.Sub(tw.missingSince); gone >= p.missingTimeout {
			return p.failBuild(ctx, tw, it, fmt.Sprintf("build task %s is gone: ECS reports %s for %s", tw.task, firstOf(failure, "no such task"), gone.Round(time.Second)), time.Time{})
		}
		tw.backoff = min(max(2*tw.backoff, p.watchEvery), maxMissingBackoff)
		tw.next = now.Add(tw.backoff)
		p.logf("at=watch.missing app=%s id=%s task=%s retry=%s", tw.app, tw.build, tw.task, tw.backoff)
		return nil
	}
	tw.missingSince, tw.backoff, tw.next = time.Time{}, 0, time.Time{}
	switch {
	case sdkaws.ToString(task.LastStatus) == string(ecstypes.DesiredStatusStopped):
		// Read the build again: cmd/build reports its end before its task stops.
		if err := tw.table.Get(ctx, tw.build, it); err != nil {
			return err
		}
		if it.Build.Terminal() {
			p.unwatch(tw.build)
			return nil
		}
		return p.failBuild(ctx, tw, it, stoppedReason(task, p.res.BuildContainer), sdkaws.ToTime(task.StoppedAt))
	case !it.reported() && p.now().Sub(it.Created) > p.startTimeout:
		reason := fmt.Sprintf("build did not start within %s (task %s)", p.startTimeout, strings.ToLower(sdkaws.ToString(task.LastStatus)))
		_, err := p.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String(p.res.BuildCluster), Task: sdkaws.String(tw.task), Reason: sdkaws.String(reason)})
		if err != nil {
			return fmt.Errorf("stopping build task %s: %w", tw.task, err)
		}
		p.logf("at=watch.timeout app=%s id=%s task=%s", tw.app, tw.build, tw.task)
		return p.failBuild(ctx, tw, it, reason, time.Time{})
	}
	return nil
}

// taskID is the last part of a task ARN, the same in both ARN formats.
func taskID(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// stoppedReason says why a stopped task ended: ECS's stop code and reason and
// the build container's exit code (or its own reason when it never ran).
func stoppedReason(task ecstypes.Task, container string) string {
	reason := firstOf(sdkaws.ToString(task.StoppedReason), string(task.StopCode), "no reason given")
	exit := "no exit code"
	for _, c := range task.Containers {
		if container != "" && sdkaws.ToString(c.Name) != container && len(task.Containers) > 1 {
			continue
		}
		if c.ExitCode != nil {
			exit = fmt.Sprintf("exit code %d", *c.ExitCode)
		} else if r := sdkaws.ToString(c.Reason); r != "" {
			exit = "no exit code: " + r
		}
		break
	}
	return fmt.Sprintf("build task stopped before the build finished: %s (%s)", reason, exit)
}

// failBuild marks a build failed with reason, keeps what its task logged (and
// the reason) as the build's logs object, and drops it from the watch.
func (p *Provider) failBuild(ctx context.Context, tw *taskWatch, it *buildItem, reason string, ended time.Time) error {
	if ended.IsZero() {
		ended = p.now()
	}
	// The build may have reported its end since this round read it: keep its logs then.
	if err := tw.table.Get(ctx, tw.build, it); err != nil {
		return err
	}
	if it.Build.Terminal() {
		p.unwatch(tw.build)
		return nil
	}
	var buf bytes.Buffer
	if group, stream, err := p.logStream(tw.task); err == nil {
		if err := p.copyLogs(&buf, tw.app, tw.build, group, stream, false); err != nil {
			p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
		}
	} else {
		p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
	}
	fmt.Fprintf(&buf, "ERROR: %s\n", reason)
	upd := structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusFailed), Reason: &reason, Ended: ptr(ended.UTC())}
	if obj, err := p.ObjectStore(tw.app, fmt.Sprintf("build/%s/logs", tw.build), &buf, structs.ObjectStoreOptions{}); err == nil {
		upd.Logs = &obj.Url
	} else {
		p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
	}
	// A conditional write: a build that reported its end meanwhile keeps it.
	final, err := p.updateBuild(tw.table, tw.app, tw.build, func(it *buildItem) error {
		if it.Build.Terminal() {
			upd.Logs = nil
		}
		return it.Build.Apply(upd)
	})
	if err != nil {
		return err
	}
	*it = *final
	p.unwatch(tw.build)
	if it.Build.Reason != reason {
		return nil
	}
	p.logf("at=watch.failed app=%s id=%s reason=%q", tw.app, tw.build, reason)
	return nil
}
