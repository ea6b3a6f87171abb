package aws_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
)

// failBound is how soon a build whose task died must be failed.
const failBound = 30 * time.Second

// watchedRack is a fargate rack whose provider checks build tasks every 200 ms.
func watchedRack(t *testing.T, opts ...aws.Option) *rack {
	t.Helper()
	opts = append([]aws.Option{aws.WithWatchInterval(200 * time.Millisecond)}, opts...)
	r := newRack(t, map[string]string{"BuildMethod": "fargate"}, opts...)
	_, err := r.p.AppCreate("web", structs.AppCreateOptions{})
	require.NoError(t, err)
	return r
}

// stopTask stops a build's task as ECS would, with reason.
func (r *rack) stopTask(b *structs.Build, reason string) {
	r.t.Helper()
	_, err := ecs.NewFromConfig(r.cfg).StopTask(r.ctx, &ecs.StopTaskInput{
		Cluster: sdkaws.String(r.resources().BuildCluster), Task: sdkaws.String(b.Process), Reason: sdkaws.String(reason),
	})
	require.NoError(r.t, err)
}

// waitFailed waits until p reports the build failed, at most failBound, and returns it with the time it took.
func waitFailed(t *testing.T, p *aws.Provider, b *structs.Build) (*structs.Build, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got, err := p.BuildGet(b.App, b.Id)
		require.NoError(t, err)
		if got.Status == structs.BuildStatusFailed {
			return got, time.Since(start)
		}
		require.Falsef(t, got.Terminal(), "build ended %s, want failed", got.Status)
		require.LessOrEqual(t, time.Since(start), failBound, "build still %s after its task stopped", got.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

// buildLogs reads a build's logs through the provider.
func buildLogs(t *testing.T, p *aws.Provider, b *structs.Build) string {
	t.Helper()
	rc, err := p.BuildLogs(b.App, b.Id, structs.LogsOptions{})
	require.NoError(t, err)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(data)
}

// A task that stops while its build runs fails the build with ECS's reason and the exit code; the logs say so too.
func TestBuildTaskStopped(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)

	r.stopTask(b, "OutOfMemoryError: Container killed due to memory usage")
	got, took := waitFailed(t, r.p, b)
	t.Logf("failed %s after the task stopped: %s", took.Round(time.Millisecond), got.Reason)
	assert.Contains(t, got.Reason, "OutOfMemoryError: Container killed due to memory usage")
	assert.Regexp(t, `exit code -?\d+|no exit code`, got.Reason)
	assert.False(t, got.Ended.IsZero(), "ended time")
	assert.True(t, strings.HasPrefix(got.Logs, "object://web/"), "logs kept as an object, got %q", got.Logs)
	assert.Contains(t, buildLogs(t, r.p, got), got.Reason)
	assert.Contains(t, r.log.String(), "at=watch.failed app=web id="+b.Id)
}

// A task that never gets its build going is stopped after the start timeout and the build fails.
func TestBuildTaskNeverStarts(t *testing.T) {
	r := watchedRack(t, aws.WithStartTimeout(time.Second))
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)

	got, took := waitFailed(t, r.p, b)
	t.Logf("failed %s after create: %s", took.Round(time.Millisecond), got.Reason)
	assert.Less(t, took, time.Second+failBound)
	assert.Contains(t, got.Reason, "build did not start within 1s")
	task := r.task(b)
	assert.Equal(t, "STOPPED", sdkaws.ToString(task.LastStatus), "the task of a build that never started is stopped")
	assert.Contains(t, sdkaws.ToString(task.StoppedReason), "did not start")
	assert.Contains(t, buildLogs(t, r.p, got), "did not start")
}

// A rack API that restarts mid-build picks the watch back up from the builds table.
func TestBuildWatchAfterRestart(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	require.NoError(t, r.p.Close(), "the first rack API stops")

	// The task dies while no rack API runs.
	r.stopTask(b, "Essential container in task exited")
	time.Sleep(time.Second)
	stale, err := r.p.BuildGet("web", b.Id)
	require.NoError(t, err)
	require.Equal(t, structs.BuildStatusRunning, stale.Status, "a stopped provider changed the build")

	restarted := r.restart()
	got, took := waitFailed(t, restarted, b)
	t.Logf("failed %s after the restart: %s", took.Round(time.Millisecond), got.Reason)
	assert.Contains(t, got.Reason, "Essential container in task exited")
	assert.Contains(t, r.log.String(), "at=watch.resume builds=1")
}

// A build that reports its end before its task stops is left as it reported.
func TestBuildTaskSucceeded(t *testing.T) {
	r := watchedRack(t, aws.WithStartTimeout(time.Second))
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	ended := time.Now().UTC()
	_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	want, err := r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{
		Status: ptr(structs.BuildStatusComplete), Release: ptr("RABC"), Logs: ptr("object://web/build/" + b.Id + "/logs"), Ended: &ended,
	})
	require.NoError(t, err)
	r.stopTask(b, "Essential container in task exited")

	time.Sleep(2 * time.Second) // ten watch rounds, and past the start timeout
	got, err := r.p.BuildGet("web", b.Id)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.NotContains(t, r.log.String(), "at=watch.failed")
}

// setProcess rewrites the task a build record names, straight in DynamoDB.
func (r *rack) setProcess(b *structs.Build, from, to string) {
	r.t.Helper()
	db := dynamodb.NewFromConfig(r.cfg)
	table := r.resources().BuildsTable
	key := map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: b.Id}}
	item, err := db.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: sdkaws.String(table), Key: key})
	require.NoError(r.t, err)
	record := item.Item["record"].(*dbtypes.AttributeValueMemberS)
	require.Contains(r.t, record.Value, `"process":"`+from+`"`)
	record.Value = strings.ReplaceAll(record.Value, `"process":"`+from+`"`, `"process":"`+to+`"`)
	_, err = db.PutItem(r.ctx, &dynamodb.PutItemInput{TableName: sdkaws.String(table), Item: item.Item})
	require.NoError(r.t, err)
}

// restart is a new provider on the same stack that picks up the watch, as an API task that replaced the last one.
func (r *rack) restart(opts ...aws.Option) *aws.Provider {
	r.t.Helper()
	opts = append([]aws.Option{aws.WithResources(r.resources()), aws.WithWatchInterval(200 * time.Millisecond), aws.WithLog(r.log)}, opts...)
	restarted, err := aws.New(r.ctx, r.cfg, rackName, opts...)
	require.NoError(r.t, err)
	r.t.Cleanup(func() { restarted.Close() })
	require.NoError(r.t, restarted.Watch())
	return restarted
}

// A task ECS no longer knows (it forgets stopped tasks after about an hour, as
// while a rack API was down) fails its build once ECS kept saying MISSING for
// the missing timeout, found again after a restart.
func TestBuildTaskGone(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	require.NoError(t, r.p.Close())

	gone := b.Process[:strings.LastIndex(b.Process, "/")+1] + "0b2d1d0e6b7b4a4f9d1f5e2c3a4b5c6d"
	r.setProcess(b, b.Process, gone)
	restarted := r.restart(aws.WithMissingTimeout(2 * time.Second))
	got, took := waitFailed(t, restarted, b)
	t.Logf("failed %s after the restart: %s", took.Round(time.Millisecond), got.Reason)
	assert.Contains(t, got.Reason, "build task "+gone+" is gone: ECS reports")
	assert.GreaterOrEqual(t, took, 2*time.Second, "failed before the missing timeout")
	assert.Contains(t, r.log.String(), "at=watch.missing app=web id="+b.Id)
}

// ECS may not know a task right after RunTask (it is eventually consistent):
// a MISSING answer is looked at again with backoff, and the build goes on
// when the task shows up within the missing timeout.
func TestBuildTaskMissingThenFound(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	require.NoError(t, r.p.Close())

	late := b.Process[:strings.LastIndex(b.Process, "/")+1] + "0b2d1d0e6b7b4a4f9d1f5e2c3a4b5c6d"
	r.setProcess(b, b.Process, late)
	restarted := r.restart(aws.WithMissingTimeout(20 * time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.log.String(), "at=watch.missing app=web id="+b.Id) {
		require.True(t, time.Now().Before(deadline), "the watch never saw the task missing:\n%s", r.log)
		time.Sleep(50 * time.Millisecond)
	}
	r.setProcess(b, late, b.Process) // ECS knows the task now
	time.Sleep(3 * time.Second)
	got, err := restarted.BuildGet("web", b.Id)
	require.NoError(t, err)
	assert.Equal(t, structs.BuildStatusRunning, got.Status, "a task ECS found again failed its build: %s", got.Reason)
	r.stopTask(b, "Essential container in task exited")
	got, _ = waitFailed(t, restarted, b)
	assert.Contains(t, got.Reason, "Essential container in task exited", "the build is watched again")
}

// A build whose task was never recorded (the API died between recording the
// build and RunTask) is watched too, and fails after the start timeout.
func TestBuildWithoutTaskIsWatched(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	require.NoError(t, r.p.Close())
	r.setProcess(b, b.Process, "")

	restarted := r.restart(aws.WithStartTimeout(time.Second))
	got, took := waitFailed(t, restarted, b)
	t.Logf("failed %s after the restart: %s", took.Round(time.Millisecond), got.Reason)
	assert.Contains(t, got.Reason, "no build task was started within 1s")
	assert.Contains(t, r.log.String(), "at=watch.resume builds=1")
}

// Reports that race (the task's own and the watch's) are conditional writes:
// the first end wins, every later one leaves the build as it ended, and no
// report is lost to another (each one's logs field lands).
func TestBuildUpdatesRace(t *testing.T) {
	r := watchedRack(t)
	b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	require.NoError(t, err)
	ends := []string{structs.BuildStatusComplete, structs.BuildStatusFailed}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			_, err := r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(ends[i%2]), Reason: ptr(fmt.Sprint("report ", i)), Entrypoint: ptr(fmt.Sprint("e", i))})
			errs <- err
		}()
	}
	for range 16 {
		require.NoError(t, <-errs)
	}
	got, err := r.p.BuildGet("web", b.Id)
	require.NoError(t, err)
	require.True(t, got.Terminal(), "build %s after 16 end reports", got.Status)

	// Reports of different fields at once: none is lost (a plain read-modify-write loses some).
	for round := range 5 {
		b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
		require.NoError(t, err)
		updates := []structs.BuildUpdateOptions{{Entrypoint: ptr("e")}, {Logs: ptr("object://web/l")}, {Manifest: ptr("m")}, {Cache: ptr(`[{"service":"web"}]`)}}
		for _, u := range updates {
			go func() {
				_, err := r.p.BuildUpdate("web", b.Id, u)
				errs <- err
			}()
		}
		for range updates {
			require.NoError(t, <-errs)
		}
		all, err := r.p.BuildGet("web", b.Id)
		require.NoError(t, err)
		lost := all.Entrypoint == "" || all.Logs == "" || all.Manifest == "" || len(all.Cache) == 0
		assert.False(t, lost, "round %d: a concurrent report was lost: %+v", round, all)
	}
	var first int
	_, err = fmt.Sscanf(got.Reason, "report %d", &first)
	require.NoError(t, err, "reason %q", got.Reason)
	assert.Equal(t, ends[first%2], got.Status, "the reason and the status come from different reports: %+v", got)
	_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning), Reason: ptr("late")})
	require.NoError(t, err)
	again, err := r.p.BuildGet("web", b.Id)
	require.NoError(t, err)
	assert.Equal(t, got.Status, again.Status, "a finished build changed state")
	assert.Equal(t, got.Reason, again.Reason, "a finished build changed its reason")
}
