package aws_test

import (
	"io"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fargateRack is a rack that builds on Fargate, so builds need no container instance.
func fargateRack(t *testing.T) *rack {
	r := newRack(t, map[string]string{"BuildMethod": "fargate"})
	for _, app := range []string{"web", "other"} {
		_, err := r.p.AppCreate(app, structs.AppCreateOptions{})
		require.NoError(t, err)
	}
	return r
}

func TestAppsBuildsReleasesObjects(t *testing.T) {
	r := fargateRack(t)

	t.Run("apps", func(t *testing.T) {
		_, err := r.p.AppCreate("web", structs.AppCreateOptions{})
		assert.ErrorIs(t, err, structs.ErrInvalid, "creating web twice: %v", err)
		_, err = r.p.AppCreate("Bad_Name", structs.AppCreateOptions{})
		assert.ErrorIs(t, err, structs.ErrInvalid, "creating Bad_Name: %v", err)
		_, err = r.p.AppCreate("gen3", structs.AppCreateOptions{Generation: ptr("3")})
		assert.ErrorIs(t, err, structs.ErrInvalid, "creating a generation 3 app: %v", err)
		as, err := r.p.AppList()
		require.NoError(t, err)
		require.Len(t, as, 2, "AppList = %+v", as)
		require.EqualValues(t, "other", as[0].Name, "AppList = %+v", as)
		require.EqualValues(t, "web", as[1].Name, "AppList = %+v", as)
		require.EqualValues(t, "2", as[1].Generation, "AppList = %+v", as)
		repos, err := ecr.NewFromConfig(r.cfg).DescribeRepositories(r.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"convox/web"}})
		require.NoError(t, err, "repository of web: %v", err)
		require.Len(t, repos.Repositories, 1, "repository of web: %v", err)
		_, err = r.p.AppGet("nope")
		assert.ErrorIs(t, err, structs.ErrNotFound, "AppGet(nope) = %v", err)
	})

	var ids []string
	t.Run("builds round-trip through DynamoDB", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{Description: ptr("build " + string(rune('a'+i)))})
			require.NoError(t, err)
			ids = append(ids, b.Id)
		}
		_, err := r.p.BuildCreate("other", "object://other/tmp/src.tgz", structs.BuildCreateOptions{})
		require.NoError(t, err)
		started := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
		got, err := r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{
			Status: ptr(structs.BuildStatusComplete), Started: &started, Ended: ptr(started.Add(time.Minute)),
			Manifest: ptr("services:\n  web:\n    build: .\n"), Release: ptr("RFAKE"), Entrypoint: ptr("/bin/web"),
			Cache: ptr(`[{"service":"web","steps":5,"cached":4,"seconds":1.5,"persistent-cache":true}]`),
		})
		require.NoError(t, err)
		read, err := r.p.BuildGet("web", ids[1])
		require.NoError(t, err)
		require.True(t, read.Started.Equal(started), "BuildGet after update = %+v", read)
		require.Equal(t, structs.BuildStatusComplete, read.Status, "BuildGet after update = %+v", read)
		require.Equal(t, got.Manifest, read.Manifest, "BuildGet after update = %+v", read)
		require.EqualValues(t, "/bin/web", read.Entrypoint, "BuildGet after update = %+v", read)
		require.EqualValues(t, "build b", read.Description, "BuildGet after update = %+v", read)
		require.Len(t, read.Cache, 1, "BuildGet after update = %+v", read)
		require.EqualValues(t, 4, read.Cache[0].Cached, "BuildGet after update = %+v", read)
		require.True(t, read.Cache[0].PersistentCache, "BuildGet after update = %+v", read)
		_, err = r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{Cache: ptr("{")})
		assert.ErrorIs(t, err, structs.ErrInvalid, "bad cache summary: %v", err)
		_, err = r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{Status: ptr("exploded")})
		assert.ErrorIs(t, err, structs.ErrInvalid, "bad status: %v", err)
		_, err = r.p.BuildGet("other", ids[1])
		assert.ErrorIs(t, err, structs.ErrNotFound, "web's build through other: %v", err)
		_, err = r.p.BuildGet("web", "BNOSUCHBUILD")
		assert.ErrorIs(t, err, structs.ErrNotFound, "missing build: %v", err)
	})

	t.Run("BuildList is newest first and honours the limit", func(t *testing.T) {
		all, err := r.p.BuildList("web", structs.BuildListOptions{})
		require.NoError(t, err)
		got := buildIDs(all)
		require.Equal(t, strings.Join([]string{ids[2], ids[1], ids[0]}, ","), got, "BuildList = %s, want %s newest first", got, strings.Join(ids, ","))
		two, err := r.p.BuildList("web", structs.BuildListOptions{Limit: ptr(2)})
		require.NoError(t, err)
		got = buildIDs(two)
		require.Equal(t, ids[2]+","+ids[1], got, "BuildList limit 2 = %s", got)
		_, err = r.p.BuildList("nope", structs.BuildListOptions{})
		assert.ErrorIs(t, err, structs.ErrNotFound, "BuildList of a missing app: %v", err)
	})

	t.Run("releases", func(t *testing.T) {
		first, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1]), Env: ptr("A=1")})
		require.NoError(t, err)
		second, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1])})
		require.NoError(t, err)
		assert.EqualValues(t, "A=1", second.Env, "second release = %+v: env and manifest carry over", second)
		assert.NotEmpty(t, second.Manifest, "second release = %+v: env and manifest carry over", second)
		assert.Equal(t, "build b", first.Description, "a release takes its build's description")
		assert.Equal(t, "build b", second.Description, "a release takes its build's description")
		own, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1]), Description: ptr("rollback")})
		require.NoError(t, err)
		require.Equal(t, "rollback", own.Description, "release with its own description = %+v", own)
		rs, err := r.p.ReleaseList("web", structs.ReleaseListOptions{})
		require.NoError(t, err)
		require.Len(t, rs, 3, "ReleaseList = %+v", rs)
		require.Equal(t, own.Id, rs[0].Id, "ReleaseList = %+v", rs)
		require.Equal(t, second.Id, rs[1].Id, "ReleaseList = %+v", rs)
		require.Equal(t, first.Id, rs[2].Id, "ReleaseList = %+v", rs)
		require.Equal(t, "build b", rs[1].Description, "ReleaseList = %+v", rs)
		err = r.p.ReleasePromote("web", first.Id, structs.ReleasePromoteOptions{})
		require.NoError(t, err)
		a, err := r.p.AppGet("web")
		require.NoError(t, err, "app after promote = %+v, %v", a, err)
		require.Equal(t, first.Id, a.Release, "app after promote = %+v, %v", a, err)
		_, err = r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr("BNOSUCHBUILD")})
		assert.ErrorIs(t, err, structs.ErrNotFound, "release of a missing build: %v", err)
		err = r.p.ReleasePromote("other", first.Id, structs.ReleasePromoteOptions{})
		assert.ErrorIs(t, err, structs.ErrNotFound, "promoting web's release on other: %v", err)
	})

	t.Run("objects", func(t *testing.T) {
		o, err := r.p.ObjectStore("web", "tmp/src.tgz", strings.NewReader("source"), structs.ObjectStoreOptions{})
		require.NoError(t, err)
		assert.EqualValues(t, "object://web/tmp/src.tgz", o.Url, "object url = %s", o.Url)
		ok, err := r.p.ObjectExists("web", "tmp/src.tgz")
		assert.True(t, ok, "ObjectExists = %v, %v", ok, err)
		assert.NoError(t, err, "ObjectExists = %v, %v", ok, err)
		ok, err = r.p.ObjectExists("other", "tmp/src.tgz")
		assert.False(t, ok, "other app sees web's object: %v, %v", ok, err)
		assert.NoError(t, err, "other app sees web's object: %v, %v", ok, err)
		rc, err := r.p.ObjectFetch("web", "tmp/src.tgz")
		require.NoError(t, err)
		data, _ := io.ReadAll(rc)
		rc.Close()
		assert.EqualValues(t, "source", string(data), "fetched %q", data)
		for _, key := range []string{"", "../web/x", "/abs", "a//b", "a/./b", "back\\slash"} {
			_, err := r.p.ObjectStore("web", key, strings.NewReader("x"), structs.ObjectStoreOptions{})
			assert.ErrorIs(t, err, structs.ErrInvalid, "ObjectStore(%q) = %v", key, err)
		}
		require.NoError(t, r.p.ObjectDelete("web", "tmp/src.tgz"))
		_, err = r.p.ObjectFetch("web", "tmp/src.tgz")
		assert.ErrorIs(t, err, structs.ErrNotFound, "fetch after delete: %v", err)
		err = r.p.ObjectDelete("web", "tmp/src.tgz")
		assert.ErrorIs(t, err, structs.ErrNotFound, "second delete: %v", err)
	})

	t.Run("logs from CloudWatch while running, from the object after", func(t *testing.T) {
		b, err := r.p.BuildGet("web", ids[2])
		require.NoError(t, err)
		group, stream := r.resources().BuildLogGroup, "build/build/"+b.Process[strings.LastIndex(b.Process, "/")+1:]
		logs := cloudwatchlogs.NewFromConfig(r.cfg)
		_, err = logs.CreateLogStream(r.ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream})
		require.NoError(t, err)
		put := func(lines ...string) {
			var evs []logtypes.InputLogEvent
			for _, l := range lines {
				evs = append(evs, logtypes.InputLogEvent{Message: sdkaws.String(l), Timestamp: sdkaws.Int64(time.Now().UnixMilli())})
			}
			_, err := logs.PutLogEvents(r.ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs})
			require.NoError(t, err)
		}
		put("Building web", "Step 1/2")
		now, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{})
		require.NoError(t, err)
		data, err := io.ReadAll(now)
		require.NoError(t, err)
		require.Equal(t, "Building web\nStep 1/2\n", string(data), "logs so far")

		follow, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{Follow: ptr(true)})
		require.NoError(t, err)
		done := make(chan string)
		go func() { data, _ := io.ReadAll(follow); done <- string(data) }()
		time.Sleep(200 * time.Millisecond)
		put("Step 2/2", "Build complete")
		time.Sleep(200 * time.Millisecond)
		_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusComplete)})
		require.NoError(t, err)
		select {
		case got := <-done:
			require.EqualValues(t, "Building web\nStep 1/2\nStep 2/2\nBuild complete\n", got, "followed logs = %q", got)
		case <-time.After(30 * time.Second):
			require.Fail(t, "followed logs did not end with the build")
		}

		o, err := r.p.ObjectStore("web", "build/"+b.Id+"/logs", strings.NewReader("stored log\n"), structs.ObjectStoreOptions{})
		require.NoError(t, err)
		_, err = r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Logs: &o.Url})
		require.NoError(t, err)
		stored, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{Follow: ptr(true)})
		require.NoError(t, err)
		data, _ = io.ReadAll(stored)
		require.EqualValues(t, "stored log\n", string(data), "logs of a finished build = %q", data)
	})

	t.Run("app delete removes its repository", func(t *testing.T) {
		require.NoError(t, r.p.AppDelete("other"))
		_, err := r.p.AppGet("other")
		assert.ErrorIs(t, err, structs.ErrNotFound, "AppGet after delete: %v", err)
		_, err = ecr.NewFromConfig(r.cfg).DescribeRepositories(r.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"convox/other"}})
		assert.Error(t, err, "repository of other survives the app")
	})
}

func buildIDs(bs structs.Builds) string {
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.Id)
	}
	return strings.Join(ids, ",")
}
