package aws_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/api"
	"github.com/convox/rack/pkg/cli"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
	"github.com/convox/rack/provider/aws/images"
	"github.com/convox/stdcli"
)

// upstreamCutoffs are the rack versions at or below which the upstream convox
// CLI takes its oldest code paths (multipart build upload, classic resources).
var upstreamCutoffs = []string{"20180416200237", "20180708231844", "20190111211123"}

// apiClient serves the provider through the rack API on loopback and returns a
// client speaking the Convox wire format, as the upstream convox CLI does.
func apiClient(t *testing.T, p *aws.Provider) *sdk.Client {
	t.Helper()
	ts := httptest.NewServer(api.New(p, "rack-secret", api.WithLog(io.Discard)))
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("convox", "rack-secret")
	c, err := sdk.New(u.String())
	require.NoError(t, err)
	return c
}

// logLine writes a line to a build task's CloudWatch stream, as the awslogs driver would.
func (r *rack) logLine(b *structs.Build, line string) {
	r.t.Helper()
	logs := cloudwatchlogs.NewFromConfig(r.cfg)
	group := r.resources().BuildLogGroup
	stream := "build/build/" + b.Process[strings.LastIndex(b.Process, "/")+1:]
	_, err := logs.CreateLogStream(r.ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: sdkaws.String(group), LogStreamName: sdkaws.String(stream)})
	var exists *logtypes.ResourceAlreadyExistsException
	if err != nil {
		require.ErrorAs(r.t, err, &exists)
	}
	_, err = logs.PutLogEvents(r.ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: sdkaws.String(group), LogStreamName: sdkaws.String(stream),
		LogEvents: []logtypes.InputLogEvent{{Message: sdkaws.String(line), Timestamp: sdkaws.Int64(time.Now().UnixMilli())}},
	})
	require.NoError(r.t, err)
}

// playBuildTask reports through the API what cmd/build reports for a good
// build: running, the images pushed, a release, then complete with its logs.
func playBuildTask(t *testing.T, c *sdk.Client, r *rack, reg *testenv.Registry, b *structs.Build) {
	t.Helper()
	_, err := c.BuildUpdate(b.App, b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	r.logLine(b, "Building: web")
	pushAs(t, reg, "convox/"+b.App, images.Tag("web", b.Id))
	rel, err := c.ReleaseCreate(b.App, structs.ReleaseCreateOptions{Build: ptr(b.Id)})
	require.NoError(t, err)
	logs, err := c.ObjectStore(b.App, "build/"+b.Id+"/logs", strings.NewReader("Building: web\nBuild complete\n"), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	ended := time.Now().UTC()
	_, err = c.BuildUpdate(b.App, b.Id, structs.BuildUpdateOptions{
		Status: ptr(structs.BuildStatusComplete), Release: &rel.Id, Logs: &logs.Url, Ended: &ended,
		Manifest: ptr("services:\n  web:\n    build: .\n"),
	})
	require.NoError(t, err)
}

// followed is what `convox build` read from a followed log stream.
type followed struct {
	logs string
	err  error
}

// follow opens a build's log stream as `convox build` does and reads it to its end in the background.
func follow(t *testing.T, c *sdk.Client, app, id string) <-chan followed {
	t.Helper()
	rc, err := c.BuildLogs(app, id, structs.LogsOptions{Follow: ptr(true)})
	require.NoError(t, err)
	out := make(chan followed, 1)
	go func() {
		defer rc.Close()
		data, err := io.ReadAll(rc)
		out <- followed{string(data), err}
	}()
	return out
}

// ended waits for the followed stream to end and then, as `convox build` does, reads the build's outcome.
func ended(t *testing.T, c *sdk.Client, app, id string, stream <-chan followed) (string, *structs.Build) {
	t.Helper()
	var f followed
	select {
	case f = <-stream:
	case <-time.After(failBound):
		require.Failf(t, "log stream did not end", "build %s within %s", id, failBound)
	}
	b, err := c.BuildGet(app, id)
	require.NoError(t, err)
	require.True(t, b.Terminal(), "log stream ended while build %s is %s", id, b.Status)
	return f.logs, b
}

// The AWS provider in moto answers every route the upstream convox CLI uses
// for a build's life, at a version that makes the CLI take its current paths.
func TestUpstreamCLIPaths(t *testing.T) {
	reg := testenv.StartRegistry(t)
	r := newRack(t, map[string]string{"BuildMethod": "fargate"}, aws.WithWatchInterval(200*time.Millisecond),
		aws.WithRegistry(aws.StaticRegistry(images.Login{Host: reg.Host, Username: reg.Username, Password: reg.Password})))
	c := apiClient(t, r.p)

	s, err := c.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "aws", s.Provider)
	assert.Equal(t, "running", s.Status)
	for _, cutoff := range upstreamCutoffs {
		assert.Greater(t, s.Version, cutoff, "the upstream CLI takes an old path for version %q", s.Version)
	}

	for _, app := range []string{"src", "dst"} {
		_, err := c.AppCreate(app, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	apps, err := c.AppList()
	require.NoError(t, err)
	assert.Len(t, apps, 2)
	a, err := c.AppGet("src")
	require.NoError(t, err)
	assert.Equal(t, "src", a.Name)

	// convox build: the source goes up as an object, the build names its url.
	obj, err := c.ObjectStore("src", "tmp/0123456789abcdef.tgz", bytes.NewReader([]byte("source tarball")), structs.ObjectStoreOptions{})
	require.NoError(t, err)
	assert.Equal(t, "object://src/tmp/0123456789abcdef.tgz", obj.Url)
	b, err := c.BuildCreate("src", obj.Url, structs.BuildCreateOptions{Description: ptr("first")})
	require.NoError(t, err)
	assert.Equal(t, structs.BuildStatusRunning, b.Status, "a build runs from the moment its task is launched")
	assert.NotEmpty(t, b.Process, "the build names its ECS task")

	stream := follow(t, c, "src", b.Id)
	playBuildTask(t, c, r, reg, b)
	logs, done := ended(t, c, "src", b.Id, stream)
	assert.Contains(t, logs, "Building: web")
	require.Equal(t, structs.BuildStatusComplete, done.Status, done.Reason)
	assert.NotEmpty(t, done.Release)

	builds, err := c.BuildList("src", structs.BuildListOptions{})
	require.NoError(t, err)
	require.Len(t, builds, 1)
	assert.Equal(t, b.Id, builds[0].Id)
	rc, err := c.BuildLogs("src", b.Id, structs.LogsOptions{})
	require.NoError(t, err)
	stored, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "Building: web\nBuild complete\n", string(stored), "an ended build's logs come from its logs object")

	// convox builds export | convox builds import
	var archive bytes.Buffer
	require.NoError(t, c.BuildExport("src", b.Id, &archive))
	imported, err := c.BuildImport("dst", &archive)
	require.NoError(t, err)
	assert.Equal(t, structs.BuildStatusComplete, imported.Status)
	assert.NotEmpty(t, digestIn(t, reg, "convox/dst", images.Tag("web", imported.Id)))

	// convox releases, convox releases promote
	releases, err := c.ReleaseList("src", structs.ReleaseListOptions{})
	require.NoError(t, err)
	require.Len(t, releases, 1)
	assert.Equal(t, done.Release, releases[0].Id)
	require.NoError(t, c.ReleasePromote("src", done.Release, structs.ReleasePromoteOptions{}))
	a, err = c.AppGet("src")
	require.NoError(t, err)
	assert.Equal(t, done.Release, a.Release)

	// A build whose task dies ends the CLI's wait with the reason.
	failing, err := c.BuildCreate("src", obj.Url, structs.BuildCreateOptions{})
	require.NoError(t, err)
	_, err = c.BuildUpdate("src", failing.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusRunning)})
	require.NoError(t, err)
	stream = follow(t, c, "src", failing.Id)
	r.stopTask(failing, "CannotPullContainerError: pull access denied")
	_, failed := ended(t, c, "src", failing.Id, stream)
	assert.Equal(t, structs.BuildStatusFailed, failed.Status)
	assert.Contains(t, failed.Reason, "CannotPullContainerError: pull access denied")
}

// `convox build` against the rack API on AWS exits non-zero with ECS's reason
// when the build task dies before the build reports its end.
func TestConvoxBuildEndsWhenTheTaskDies(t *testing.T) {
	r := watchedRack(t)
	ts := httptest.NewServer(api.New(r.p, "rack-secret", api.WithLog(io.Discard)))
	t.Cleanup(ts.Close)
	rackURL := strings.Replace(ts.URL, "http://", "http://convox:rack-secret@", 1)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "convox.yml"), []byte("services:\n  web:\n    build: .\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("FROM busybox\n"), 0o644))

	// The task dies once the build has started it.
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(failBound)
		for time.Now().Before(deadline) {
			bs, err := r.p.BuildList("web", structs.BuildListOptions{})
			if err == nil && len(bs) == 1 && bs[0].Process != "" {
				_, err = ecs.NewFromConfig(r.cfg).StopTask(r.ctx, &ecs.StopTaskInput{
					Cluster: sdkaws.String(r.resources().BuildCluster), Task: sdkaws.String(bs[0].Process),
					Reason: sdkaws.String("OutOfMemoryError: Container killed due to memory usage"),
				})
				killed <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		killed <- fmt.Errorf("no build started within %s", failBound)
	}()

	var stdout, stderr bytes.Buffer
	e := cli.New("test")
	e.Writer.Stdout, e.Writer.Stderr, e.Writer.Color = &stdout, &stderr, false
	e.Reader = &stdcli.Reader{Reader: strings.NewReader("")}
	e.Settings = t.TempDir()
	start := time.Now()
	code := e.Execute([]string{"build", src, "-a", "web", "--rack", rackURL})
	require.NoError(t, <-killed)
	t.Logf("convox build exited %d after %s: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr.String()))
	assert.NotEqual(t, 0, code)
	assert.Contains(t, stderr.String(), "build failed: build task stopped before the build finished: OutOfMemoryError: Container killed due to memory usage")
	assert.Less(t, time.Since(start), failBound)
}
