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
	// defaultStartTimeout is how long a build may stay "created" (cmd/build has
	// not reported) before its task is stopped: no capacity, an image that
	// cannot be pulled, a build binary that dies at once.
	defaultStartTimeout = 10 * time.Minute
	// describeBatch is the most tasks one DescribeTasks call takes.
	describeBatch = 100
)

// WithWatchInterval sets how often the provider checks the ECS tasks of running builds.
func WithWatchInterval(d time.Duration) Option { return func(p *Provider) { p.watchEvery = d } }

// WithStartTimeout sets how long a build may wait for cmd/build to report before its task is stopped.
func WithStartTimeout(d time.Duration) Option { return func(p *Provider) { p.startTimeout = d } }

// taskWatch is one build whose ECS task is watched until the build ends.
type taskWatch struct {
	app, build    string
	cluster, task string
	container     string
	table         records.Table
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

// Watch picks up every build of the rack that has not ended and watches its
// task, so a rack API that restarts mid-build still ends every build.
// BuildCreate watches the builds it starts without it.
func (p *Provider) Watch() error {
	st, err := p.stack()
	if err != nil {
		return err
	}
	t, err := p.builds(st)
	if err != nil {
		return err
	}
	cluster, err := st.Output("BuildCluster")
	if err != nil {
		return err
	}
	container := st.Outputs["BuildContainerName"]
	n := 0
	err = t.All(p.ctx, func(decode func(any) error) error {
		var it buildItem
		if err := decode(&it); err != nil {
			return err
		}
		if it.Build.Terminal() || it.Build.Process == "" {
			return nil
		}
		n++
		p.watch(&taskWatch{app: it.Build.App, build: it.Build.Id, cluster: cluster, task: it.Build.Process, container: container, table: t})
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

// watched is a snapshot of the watched builds, grouped by cluster.
func (p *Provider) watched() map[string][]*taskWatch {
	p.watcher.mu.Lock()
	defer p.watcher.mu.Unlock()
	out := map[string][]*taskWatch{}
	for _, tw := range p.watcher.builds {
		out[tw.cluster] = append(out[tw.cluster], tw)
	}
	return out
}

// unwatch drops a build from the watch.
func (p *Provider) unwatch(id string) {
	p.watcher.mu.Lock()
	defer p.watcher.mu.Unlock()
	delete(p.watcher.builds, id)
}

// checkTasks looks at every watched task once; errors are logged and the next round tries again.
func (p *Provider) checkTasks(ctx context.Context) {
	for cluster, tws := range p.watched() {
		for start := 0; start < len(tws); start += describeBatch {
			batch := tws[start:min(start+describeBatch, len(tws))]
			arns := make([]string, len(batch))
			for i, tw := range batch {
				arns[i] = tw.task
			}
			out, err := p.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(cluster), Tasks: arns})
			if err != nil {
				if ctx.Err() == nil {
					p.logf("at=watch.describe cluster=%s error=%q", cluster, err)
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
			for _, tw := range batch {
				task, found := tasks[taskID(tw.task)]
				if err := p.checkTask(ctx, tw, task, found, missing[taskID(tw.task)]); err != nil && ctx.Err() == nil {
					p.logf("at=watch.check app=%s id=%s error=%q", tw.app, tw.build, err)
				}
			}
		}
	}
}

// checkTask decides one build: ended builds leave the watch untouched; a build
// whose task stopped or vanished fails with the reason ECS gives; a build that
// never reported within the start timeout has its task stopped and fails.
func (p *Provider) checkTask(ctx context.Context, tw *taskWatch, task ecstypes.Task, found bool, failure string) error {
	var it buildItem
	err := tw.table.Get(ctx, tw.build, &it)
	if errors.Is(err, records.ErrNotFound) || err == nil && it.Build.Terminal() {
		p.unwatch(tw.build) // deleted with its app, or ended
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case !found:
		return p.failBuild(ctx, tw, &it, fmt.Sprintf("build task %s is gone: ECS reports %s", tw.task, firstOf(failure, "no such task")), time.Time{})
	case sdkaws.ToString(task.LastStatus) == string(ecstypes.DesiredStatusStopped):
		// Read the build again: cmd/build reports its end before its task stops.
		if err := tw.table.Get(ctx, tw.build, &it); err != nil {
			return err
		}
		if it.Build.Terminal() {
			p.unwatch(tw.build)
			return nil
		}
		return p.failBuild(ctx, tw, &it, stoppedReason(task, tw.container), sdkaws.ToTime(task.StoppedAt))
	case it.Build.Status == structs.BuildStatusCreated && p.now().Sub(it.Created) > p.startTimeout:
		reason := fmt.Sprintf("build did not start within %s (task %s)", p.startTimeout, strings.ToLower(sdkaws.ToString(task.LastStatus)))
		_, err := p.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: sdkaws.String(tw.cluster), Task: sdkaws.String(tw.task), Reason: sdkaws.String(reason)})
		if err != nil {
			return fmt.Errorf("stopping build task %s: %w", tw.task, err)
		}
		p.logf("at=watch.timeout app=%s id=%s task=%s", tw.app, tw.build, tw.task)
		return p.failBuild(ctx, tw, &it, reason, time.Time{})
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
	var buf bytes.Buffer
	if group, stream, err := p.logStream(tw.task); err == nil {
		if err := p.copyLogs(&buf, tw.app, tw.build, group, stream, false); err != nil {
			p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
		}
	} else {
		p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
	}
	fmt.Fprintf(&buf, "ERROR: %s\n", reason)
	b := &it.Build
	if obj, err := p.ObjectStore(tw.app, fmt.Sprintf("build/%s/logs", tw.build), &buf, structs.ObjectStoreOptions{}); err == nil {
		b.Logs = obj.Url
	} else {
		p.logf("at=watch.logs app=%s id=%s error=%q", tw.app, tw.build, err)
	}
	b.Status, b.Reason, b.Ended = structs.BuildStatusFailed, reason, ended.UTC()
	if err := tw.table.Put(ctx, b.Id, map[string]string{"app": b.App, "created": records.Created(it.Created)}, it); err != nil {
		return err
	}
	p.unwatch(tw.build)
	p.logf("at=watch.failed app=%s id=%s reason=%q", tw.app, tw.build, reason)
	return nil
}
