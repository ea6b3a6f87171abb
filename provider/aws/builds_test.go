package aws_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"
)

// outputs are the rack stack's outputs, read straight from moto.
func (r *rack) outputs() map[string]string {
	r.t.Helper()
	out, err := cloudformation.NewFromConfig(r.cfg).DescribeStacks(r.ctx, &cloudformation.DescribeStacksInput{StackName: sdkaws.String(rackName)})
	if err != nil {
		r.t.Fatal(err)
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[sdkaws.ToString(o.OutputKey)] = sdkaws.ToString(o.OutputValue)
	}
	return m
}

// registerInstance gives the build cluster an EC2 container instance, as an
// ECS agent would; moto wants the instance to exist, so a small stack makes one.
func (r *rack) registerInstance() {
	r.t.Helper()
	cfn := cloudformation.NewFromConfig(r.cfg)
	_, err := cfn.CreateStack(r.ctx, &cloudformation.CreateStackInput{
		StackName: sdkaws.String("build-host"),
		TemplateBody: sdkaws.String(`{"Resources":{"Host":{"Type":"AWS::EC2::Instance","Properties":{"ImageId":"ami-12c6146b","InstanceType":"m5.large"}}},
			"Outputs":{"Id":{"Value":{"Ref":"Host"}}}}`),
	})
	if err != nil {
		r.t.Fatalf("creating a build host: %v", err)
	}
	out, err := cfn.DescribeStacks(r.ctx, &cloudformation.DescribeStacksInput{StackName: sdkaws.String("build-host")})
	if err != nil || len(out.Stacks[0].Outputs) != 1 {
		r.t.Fatalf("build host stack: %v", err)
	}
	doc, _ := json.Marshal(map[string]string{"instanceId": sdkaws.ToString(out.Stacks[0].Outputs[0].OutputValue), "region": r.cfg.Region})
	_, err = ecs.NewFromConfig(r.cfg).RegisterContainerInstance(r.ctx, &ecs.RegisterContainerInstanceInput{
		Cluster:                  sdkaws.String(r.outputs()["BuildCluster"]),
		InstanceIdentityDocument: sdkaws.String(string(doc)),
	})
	if err != nil {
		r.t.Fatalf("RegisterContainerInstance: %v", err)
	}
}

// ecrPassword is the password in the ECR token moto hands out, to look for leaks.
func (r *rack) ecrPassword() string {
	r.t.Helper()
	out, err := ecr.NewFromConfig(r.cfg).GetAuthorizationToken(r.ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		r.t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sdkaws.ToString(out.AuthorizationData[0].AuthorizationToken))
	_, password, _ := strings.Cut(string(raw), ":")
	if password == "" {
		r.t.Fatal("moto ECR token has no password")
	}
	return password
}

// task is the ECS task a build started, as DescribeTasks reports it.
func (r *rack) task(b *structs.Build) ecstypes.Task {
	r.t.Helper()
	out, err := ecs.NewFromConfig(r.cfg).DescribeTasks(r.ctx, &ecs.DescribeTasksInput{
		Cluster: sdkaws.String(r.outputs()["BuildCluster"]), Tasks: []string{b.Process},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		r.t.Fatalf("DescribeTasks(%s) = %d tasks", b.Process, len(out.Tasks))
	}
	return out.Tasks[0]
}

// overrides are the build container's environment and command of a task.
func overrides(t *testing.T, task ecstypes.Task) (map[string]string, []string) {
	t.Helper()
	if task.Overrides == nil || len(task.Overrides.ContainerOverrides) != 1 {
		t.Fatalf("task overrides = %+v", task.Overrides)
	}
	c := task.Overrides.ContainerOverrides[0]
	if sdkaws.ToString(c.Name) != "build" {
		t.Fatalf("override names container %q", sdkaws.ToString(c.Name))
	}
	env := map[string]string{}
	for _, kv := range c.Environment {
		env[sdkaws.ToString(kv.Name)] = sdkaws.ToString(kv.Value)
	}
	return env, c.Command
}

// leaks fails the test if secret shows up in the provider log, the build
// records (through the provider and raw in DynamoDB) or a listing.
func (r *rack) leaks(app, secret string) {
	r.t.Helper()
	if strings.Contains(r.log.String(), secret) {
		r.t.Errorf("provider log holds the registry password:\n%s", r.log)
	}
	bs, err := r.p.BuildList(app, structs.BuildListOptions{Limit: ptr(100)})
	if err != nil {
		r.t.Fatal(err)
	}
	data, _ := json.Marshal(bs)
	if strings.Contains(string(data), secret) {
		r.t.Errorf("build records hold the registry password: %s", data)
	}
	scan, err := dynamodb.NewFromConfig(r.cfg).Scan(r.ctx, &dynamodb.ScanInput{TableName: sdkaws.String(r.outputs()["BuildsTable"])})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(scan.Items) == 0 {
		r.t.Fatal("builds table is empty")
	}
	raw, _ := json.Marshal(scan.Items)
	if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "BUILD_AUTH") {
		r.t.Errorf("builds table holds the registry login: %s", raw)
	}
}

func TestBuildCreate(t *testing.T) {
	cases := []struct {
		name       string
		params     map[string]string
		launch     ecstypes.LaunchType
		definition string // the stack output naming the task definition
		cache      bool
		ttl        string
	}{
		{"fargate with cache", map[string]string{"BuildMethod": "fargate", "BuildCache": "Yes", "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "14"},
			ecstypes.LaunchTypeFargate, "BuildTaskDefinitionFargate", true, "336h"},
		{"ec2 with cache", map[string]string{"BuildMethod": "ec2", "BuildCache": "Yes"},
			ecstypes.LaunchTypeEc2, "BuildTaskDefinitionEc2", true, "87600h"},
		{"ec2 without cache", map[string]string{"BuildMethod": "ec2", "BuildCache": "No"},
			ecstypes.LaunchTypeEc2, "BuildTaskDefinitionEc2", false, "87600h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRack(t, c.params)
			if c.launch == ecstypes.LaunchTypeEc2 {
				r.registerInstance()
			}
			out := r.outputs()
			if c.cache && out["BuildCacheRepositoryUri"] == "" {
				t.Fatalf("stack with BuildCache=Yes has no cache repository: %v", out)
			}
			password := r.ecrPassword()
			for _, app := range []struct{ name, gen string }{{"web", "2"}, {"legacy", "1"}} {
				if _, err := r.p.AppCreate(app.name, structs.AppCreateOptions{Generation: ptr(app.gen)}); err != nil {
					t.Fatal(err)
				}
			}

			b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{Description: ptr("first")})
			if err != nil {
				t.Fatalf("%v\n%s", err, r.moto.Logs())
			}
			task := r.task(b)
			if task.LaunchType != c.launch {
				t.Errorf("launch type = %s, want %s", task.LaunchType, c.launch)
			}
			if got := sdkaws.ToString(task.TaskDefinitionArn); got != out[c.definition] {
				t.Errorf("task definition = %s, want %s (%s)", got, out[c.definition], c.definition)
			}
			env, cmd := overrides(t, task)
			wantCache, wantRepo := "false", ""
			if c.cache {
				wantCache, wantRepo = "true", out["BuildCacheRepositoryUri"]
			}
			for k, want := range map[string]string{
				"BUILD_APP": "web", "BUILD_ID": b.Id, "BUILD_URL": "object://web/tmp/src.tgz",
				"BUILD_GENERATION": "2", "BUILD_MANIFEST": "convox.yml", "BUILD_DEVELOPMENT": "false",
				"BUILD_METHOD": c.params["BuildMethod"], "BUILD_CACHE": wantCache, "BUILD_CACHE_REPO": wantRepo,
				"BUILD_CACHE_TTL": c.ttl, "BUILD_RACK": rackName, "BUILD_PUSH": b.Repository,
				"RACK_URL": "http://convox:rack-secret@127.0.0.1:5443",
			} {
				if env[k] != want {
					t.Errorf("%s = %q, want %q", k, env[k], want)
				}
			}
			// The overrides agree with what the template put in the task definition.
			def, err := ecs.NewFromConfig(r.cfg).DescribeTaskDefinition(r.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: task.TaskDefinitionArn})
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, kv := range def.TaskDefinition.ContainerDefinitions[0].Environment {
				if k := sdkaws.ToString(kv.Name); strings.HasPrefix(k, "BUILD_CACHE") {
					compared++
					if env[k] != sdkaws.ToString(kv.Value) {
						t.Errorf("%s = %q, the stack's task definition says %q", k, env[k], sdkaws.ToString(kv.Value))
					}
				}
			}
			if compared != 3 {
				t.Errorf("task definition has %d BUILD_CACHE* variables, want 3", compared)
			}
			if !strings.HasSuffix(b.Repository, ".amazonaws.com/convox/web") {
				t.Errorf("push repository = %q", b.Repository)
			}
			var auth map[string]map[string]string
			if err := json.Unmarshal([]byte(env["BUILD_AUTH"]), &auth); err != nil {
				t.Fatalf("BUILD_AUTH is not JSON: %v", err)
			}
			host, _, _ := strings.Cut(b.Repository, "/")
			if auth[host]["username"] != "AWS" || auth[host]["password"] != password {
				t.Errorf("BUILD_AUTH has no login for %s", host)
			}
			if cmd != nil {
				t.Errorf("command = %q, want the image's default", cmd)
			}

			t.Run("launch request", func(t *testing.T) {
				calls := r.callsOf("RunTask")
				if len(calls) != 1 {
					t.Fatalf("%d RunTask calls", len(calls))
				}
				var in struct {
					LaunchType           string
					PlatformVersion      string
					StartedBy            string
					NetworkConfiguration *struct {
						AwsvpcConfiguration struct {
							Subnets        []string
							SecurityGroups []string
							AssignPublicIp string
						}
					}
				}
				if err := json.Unmarshal([]byte(calls[0].Body), &in); err != nil {
					t.Fatalf("RunTask body: %v", err)
				}
				if in.LaunchType != string(c.launch) || in.StartedBy != b.Id {
					t.Errorf("RunTask launch type %q, started by %q", in.LaunchType, in.StartedBy)
				}
				if c.launch == ecstypes.LaunchTypeEc2 {
					if in.NetworkConfiguration != nil || in.PlatformVersion != "" {
						t.Errorf("ec2 RunTask has fargate settings: %+v %q", in.NetworkConfiguration, in.PlatformVersion)
					}
					return
				}
				if in.PlatformVersion != "1.4.0" || in.NetworkConfiguration == nil {
					t.Fatalf("fargate RunTask platform %q network %+v", in.PlatformVersion, in.NetworkConfiguration)
				}
				vpc := in.NetworkConfiguration.AwsvpcConfiguration
				if strings.Join(vpc.Subnets, ",") != out["Subnets"] || !slices.Equal(vpc.SecurityGroups, []string{out["BuildSecurityGroup"]}) {
					t.Errorf("fargate network = %+v, want subnets %s and group %s", vpc, out["Subnets"], out["BuildSecurityGroup"])
				}
			})

			t.Run("no-cache and build args", func(t *testing.T) {
				b, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{
					NoCache: ptr(true), BuildArgs: []string{"FOO=1", "BAR=two words"}, Manifest: ptr("convox.prod.yml"), Development: ptr(true),
				})
				if err != nil {
					t.Fatal(err)
				}
				env, cmd := overrides(t, r.task(b))
				want := []string{"-cache=false", "-build-args", "FOO=1", "-build-args", "BAR=two words"}
				if !slices.Equal(cmd, want) {
					t.Errorf("command = %q, want %q", cmd, want)
				}
				if env["BUILD_CACHE"] != wantCache || env["BUILD_CACHE_REPO"] != wantRepo {
					t.Errorf("--no-cache changed the stack's cache settings: %q %q", env["BUILD_CACHE"], env["BUILD_CACHE_REPO"])
				}
				if env["BUILD_MANIFEST"] != "convox.prod.yml" || env["BUILD_DEVELOPMENT"] != "true" {
					t.Errorf("manifest %q development %q", env["BUILD_MANIFEST"], env["BUILD_DEVELOPMENT"])
				}
			})

			t.Run("generation 1 gets the rack's settings; cmd/build keeps it off the cache", func(t *testing.T) {
				b, err := r.p.BuildCreate("legacy", "object://legacy/tmp/src.tgz", structs.BuildCreateOptions{})
				require.NoError(t, err)
				env, cmd := overrides(t, r.task(b))
				assert.Equal(t, wantCache, env["BUILD_CACHE"])
				assert.Equal(t, wantRepo, env["BUILD_CACHE_REPO"])
				assert.Equal(t, "1", env["BUILD_GENERATION"])
				assert.Equal(t, "docker-compose.yml", env["BUILD_MANIFEST"])
				spec, err := buildtask.Parse(cmd, func(k string) string { return env[k] })
				require.NoError(t, err)
				assert.Equal(t, 1, spec.Generation)
			})

			t.Run("cmd/build parses the overrides back", func(t *testing.T) {
				spec, err := buildtask.Parse(cmd, func(k string) string { return env[k] })
				require.NoError(t, err)
				assert.Equal(t, buildtask.Spec{App: "web", ID: b.Id, URL: "object://web/tmp/src.tgz", Push: b.Repository, Auth: env["BUILD_AUTH"],
					Generation: 2, Manifest: "convox.yml", Method: buildtask.Method(c.params["BuildMethod"]), Cache: c.cache, CacheRepo: wantRepo,
					CacheTTL: c.ttl, Rack: rackName, RackURL: "http://convox:rack-secret@127.0.0.1:5443"}, spec)
			})

			t.Run("the registry login stays out of logs and records", func(t *testing.T) {
				r.leaks("web", password)
				r.leaks("legacy", password)
				if !strings.Contains(r.log.String(), "at=build.create app=web id="+b.Id) {
					t.Errorf("log does not record the build:\n%s", r.log)
				}
			})
		})
	}
}

// A build that cannot be placed fails with the reason, and keeps the login out of it.
func TestBuildCreateWithoutCapacity(t *testing.T) {
	r := newRack(t, map[string]string{"BuildMethod": "ec2"}) // no container instance registered
	if _, err := r.p.AppCreate("web", structs.AppCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := r.p.BuildCreate("web", "object://web/tmp/src.tgz", structs.BuildCreateOptions{})
	if err == nil {
		t.Fatal("BuildCreate succeeded on a cluster without instances")
	}
	bs, lerr := r.p.BuildList("web", structs.BuildListOptions{})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(bs) != 1 || bs[0].Status != structs.BuildStatusFailed || bs[0].Reason == "" {
		t.Fatalf("builds after a failed start = %+v (error %v)", bs, err)
	}
	password := r.ecrPassword()
	if strings.Contains(err.Error(), password) {
		t.Errorf("error holds the registry password: %v", err)
	}
	r.leaks("web", password)
}
