package aws_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/convox/rack/pkg/structs"
)

// fargateRack is a rack that builds on Fargate, so builds need no container instance.
func fargateRack(t *testing.T) *rack {
	r := newRack(t, map[string]string{"BuildMethod": "fargate"})
	for _, app := range []string{"web", "other"} {
		if _, err := r.p.AppCreate(app, structs.AppCreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestAppsBuildsReleasesObjects(t *testing.T) {
	r := fargateRack(t)

	t.Run("apps", func(t *testing.T) {
		if _, err := r.p.AppCreate("web", structs.AppCreateOptions{}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("creating web twice: %v", err)
		}
		if _, err := r.p.AppCreate("Bad_Name", structs.AppCreateOptions{}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("creating Bad_Name: %v", err)
		}
		if _, err := r.p.AppCreate("gen3", structs.AppCreateOptions{Generation: ptr("3")}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("creating a generation 3 app: %v", err)
		}
		as, err := r.p.AppList()
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 2 || as[0].Name != "other" || as[1].Name != "web" || as[1].Generation != "2" {
			t.Fatalf("AppList = %+v", as)
		}
		repos, err := ecr.NewFromConfig(r.cfg).DescribeRepositories(r.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"convox/web"}})
		if err != nil || len(repos.Repositories) != 1 {
			t.Fatalf("repository of web: %v", err)
		}
		if _, err := r.p.AppGet("nope"); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("AppGet(nope) = %v", err)
		}
	})

	var ids []string
	t.Run("builds round-trip through DynamoDB", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{Description: ptr("build " + string(rune('a'+i)))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.Id)
		}
		if _, err := r.p.BuildCreate("other", "object://other/tmp/src.tgz", structs.BuildCreateOptions{}); err != nil {
			t.Fatal(err)
		}
		started := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
		got, err := r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{
			Status: ptr(structs.BuildStatusComplete), Started: &started, Ended: ptr(started.Add(time.Minute)),
			Manifest: ptr("services:\n  web:\n    build: .\n"), Release: ptr("RFAKE"), Entrypoint: ptr("/bin/web"),
			Cache: ptr(`[{"service":"web","steps":5,"cached":4,"seconds":1.5,"persistent-cache":true}]`),
		})
		if err != nil {
			t.Fatal(err)
		}
		read, err := r.p.BuildGet("web", ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if !read.Started.Equal(started) || read.Status != structs.BuildStatusComplete || read.Manifest != got.Manifest ||
			read.Entrypoint != "/bin/web" || read.Description != "build b" || len(read.Cache) != 1 || read.Cache[0].Cached != 4 || !read.Cache[0].PersistentCache {
			t.Fatalf("BuildGet after update = %+v", read)
		}
		if _, err := r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{Cache: ptr("{")}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("bad cache summary: %v", err)
		}
		if _, err := r.p.BuildUpdate("web", ids[1], structs.BuildUpdateOptions{Status: ptr("exploded")}); !errors.Is(err, structs.ErrInvalid) {
			t.Errorf("bad status: %v", err)
		}
		if _, err := r.p.BuildGet("other", ids[1]); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("web's build through other: %v", err)
		}
		if _, err := r.p.BuildGet("web", "BNOSUCHBUILD"); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("missing build: %v", err)
		}
	})

	t.Run("BuildList is newest first and honours the limit", func(t *testing.T) {
		all, err := r.p.BuildList("web", structs.BuildListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := buildIDs(all); got != strings.Join([]string{ids[2], ids[1], ids[0]}, ",") {
			t.Fatalf("BuildList = %s, want %s newest first", got, strings.Join(ids, ","))
		}
		two, err := r.p.BuildList("web", structs.BuildListOptions{Limit: ptr(2)})
		if err != nil {
			t.Fatal(err)
		}
		if got := buildIDs(two); got != ids[2]+","+ids[1] {
			t.Fatalf("BuildList limit 2 = %s", got)
		}
		if _, err := r.p.BuildList("nope", structs.BuildListOptions{}); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("BuildList of a missing app: %v", err)
		}
	})

	t.Run("releases", func(t *testing.T) {
		first, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1]), Env: ptr("A=1")})
		if err != nil {
			t.Fatal(err)
		}
		second, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1])})
		if err != nil {
			t.Fatal(err)
		}
		if second.Env != "A=1" || second.Manifest == "" {
			t.Errorf("second release = %+v: env and manifest carry over", second)
		}
		if first.Description != "build b" || second.Description != "build b" {
			t.Errorf("releases of build b describe it as %q, %q: a release takes its build's description", first.Description, second.Description)
		}
		own, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr(ids[1]), Description: ptr("rollback")})
		if err != nil || own.Description != "rollback" {
			t.Fatalf("release with its own description = %+v, %v", own, err)
		}
		rs, err := r.p.ReleaseList("web", structs.ReleaseListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 || rs[0].Id != own.Id || rs[1].Id != second.Id || rs[2].Id != first.Id || rs[1].Description != "build b" {
			t.Fatalf("ReleaseList = %+v", rs)
		}
		if err := r.p.ReleasePromote("web", first.Id, structs.ReleasePromoteOptions{}); err != nil {
			t.Fatal(err)
		}
		a, err := r.p.AppGet("web")
		if err != nil || a.Release != first.Id {
			t.Fatalf("app after promote = %+v, %v", a, err)
		}
		if _, err := r.p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: ptr("BNOSUCHBUILD")}); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("release of a missing build: %v", err)
		}
		if err := r.p.ReleasePromote("other", first.Id, structs.ReleasePromoteOptions{}); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("promoting web's release on other: %v", err)
		}
	})

	t.Run("objects", func(t *testing.T) {
		o, err := r.p.ObjectStore("web", "tmp/src.tgz", strings.NewReader("source"), structs.ObjectStoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Url != "object://web/tmp/src.tgz" {
			t.Errorf("object url = %s", o.Url)
		}
		if ok, err := r.p.ObjectExists("web", "tmp/src.tgz"); !ok || err != nil {
			t.Errorf("ObjectExists = %v, %v", ok, err)
		}
		if ok, err := r.p.ObjectExists("other", "tmp/src.tgz"); ok || err != nil {
			t.Errorf("other app sees web's object: %v, %v", ok, err)
		}
		rc, err := r.p.ObjectFetch("web", "tmp/src.tgz")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if string(data) != "source" {
			t.Errorf("fetched %q", data)
		}
		for _, key := range []string{"", "../web/x", "/abs", "a//b", "a/./b", "back\\slash"} {
			if _, err := r.p.ObjectStore("web", key, strings.NewReader("x"), structs.ObjectStoreOptions{}); !errors.Is(err, structs.ErrInvalid) {
				t.Errorf("ObjectStore(%q) = %v", key, err)
			}
		}
		if err := r.p.ObjectDelete("web", "tmp/src.tgz"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.p.ObjectFetch("web", "tmp/src.tgz"); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("fetch after delete: %v", err)
		}
		if err := r.p.ObjectDelete("web", "tmp/src.tgz"); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})

	t.Run("logs from CloudWatch while running, from the object after", func(t *testing.T) {
		b, err := r.p.BuildGet("web", ids[2])
		if err != nil {
			t.Fatal(err)
		}
		group, stream := r.outputs()["BuildLogGroup"], "build/build/"+b.Process[strings.LastIndex(b.Process, "/")+1:]
		logs := cloudwatchlogs.NewFromConfig(r.cfg)
		if _, err := logs.CreateLogStream(r.ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
			t.Fatal(err)
		}
		put := func(lines ...string) {
			var evs []logtypes.InputLogEvent
			for _, l := range lines {
				evs = append(evs, logtypes.InputLogEvent{Message: sdkaws.String(l), Timestamp: sdkaws.Int64(time.Now().UnixMilli())})
			}
			if _, err := logs.PutLogEvents(r.ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs}); err != nil {
				t.Fatal(err)
			}
		}
		put("Building web", "Step 1/2")
		now, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := io.ReadAll(now); string(data) != "Building web\nStep 1/2\n" {
			t.Fatalf("logs so far = %q", data)
		}

		follow, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{Follow: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan string)
		go func() { data, _ := io.ReadAll(follow); done <- string(data) }()
		time.Sleep(200 * time.Millisecond)
		put("Step 2/2", "Build complete")
		time.Sleep(200 * time.Millisecond)
		if _, err := r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Status: ptr(structs.BuildStatusComplete)}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			if got != "Building web\nStep 1/2\nStep 2/2\nBuild complete\n" {
				t.Fatalf("followed logs = %q", got)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("followed logs did not end with the build")
		}

		o, err := r.p.ObjectStore("web", "build/"+b.Id+"/logs", strings.NewReader("stored log\n"), structs.ObjectStoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.p.BuildUpdate("web", b.Id, structs.BuildUpdateOptions{Logs: &o.Url}); err != nil {
			t.Fatal(err)
		}
		stored, err := r.p.BuildLogs("web", b.Id, structs.LogsOptions{Follow: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := io.ReadAll(stored); string(data) != "stored log\n" {
			t.Fatalf("logs of a finished build = %q", data)
		}
	})

	t.Run("app delete removes its repository", func(t *testing.T) {
		if err := r.p.AppDelete("other"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.p.AppGet("other"); !errors.Is(err, structs.ErrNotFound) {
			t.Errorf("AppGet after delete: %v", err)
		}
		if _, err := ecr.NewFromConfig(r.cfg).DescribeRepositories(r.ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"convox/other"}}); err == nil {
			t.Error("repository of other survives the app")
		}
	})
}

func buildIDs(bs structs.Builds) string {
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.Id)
	}
	return strings.Join(ids, ",")
}
