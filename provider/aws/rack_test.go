package aws_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/provider/aws"
	"github.com/convox/rack/provider/aws/formation"

	"github.com/stretchr/testify/require"
)

// rackName is the stack every test deploys.
const rackName = "convox"

// rack is the formation template deployed into a fresh moto_server, with a provider on it.
type rack struct {
	t        *testing.T
	moto     *testenv.Moto
	cfg      sdkaws.Config
	ctx      context.Context
	p        *aws.Provider
	log      *testenv.SyncBuffer
	recorded string
	// params are the stack's parameter values, defaults included.
	params map[string]string
	// physicalIDs are the stack's resources by logical id, read once.
	physicalIDs map[string]string
}

// newRack starts moto (recording every request it gets), creates the rack
// stack with params and returns a provider for it.
func newRack(t *testing.T, params map[string]string, opts ...aws.Option) *rack {
	t.Helper()
	return newRackFrom(t, formation.Template(), params, opts...)
}

// newRackFrom is newRack with the template body given, e.g. rack.json without its outputs.
func newRackFrom(t *testing.T, body []byte, params map[string]string, opts ...aws.Option) *rack {
	t.Helper()
	if testing.Short() {
		t.Skip("moto integration test: skipped under -short")
	}
	recording := filepath.Join(t.TempDir(), "moto-recording.jsonl")
	t.Setenv("MOTO_RECORDER_FILEPATH", recording)
	m := testenv.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	r := &rack{t: t, moto: m, cfg: m.AWSConfig(t), ctx: ctx, log: &testenv.SyncBuffer{}, recorded: recording}
	// moto resolves UsePreviousValue only for values given at create, so give
	// every parameter, defaults included, the way an installer would.
	params = withDefaults(t, body, maps.Clone(params))
	for k, v := range map[string]string{"ImageRegistry": "123456789012.dkr.ecr.us-east-1.amazonaws.com", "Password": "rack-secret"} {
		if params[k] == "" {
			params[k] = v
		}
	}
	in := &cloudformation.CreateStackInput{
		StackName:    sdkaws.String(rackName),
		TemplateBody: sdkaws.String(string(body)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityNamedIam},
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: sdkaws.String(k), ParameterValue: sdkaws.String(params[k])})
	}
	r.params = params
	cfn := cloudformation.NewFromConfig(r.cfg)
	_, err := cfn.CreateStack(ctx, in)
	require.NoError(t, err, "CreateStack: %v\n%s", err, m.Logs())
	waiter := cloudformation.NewStackCreateCompleteWaiter(cfn, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	err = waiter.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: sdkaws.String(rackName)}, 2*time.Minute)
	require.NoError(t, err, "stack create: %v\n%s", err, m.Logs())
	// The provider names the stack's resources as the API task's environment does, never through outputs.
	opts = append([]aws.Option{aws.WithResources(r.resources()), aws.WithLog(r.log), aws.WithPollInterval(50 * time.Millisecond),
		aws.WithRackURL("http://convox:rack-secret@127.0.0.1:5443")}, opts...)
	p, err := aws.New(ctx, r.cfg, rackName, opts...)
	require.NoError(t, err)
	r.p = p
	r.holdTasks()
	r.motoAPI("start-recording")
	return r
}

// holdTasks keeps moto's ECS tasks RUNNING until StopTask, as ECS does; by
// default moto moves a task one state towards STOPPED on every DescribeTasks.
func (r *rack) holdTasks() {
	r.t.Helper()
	body := `{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000000}}`
	resp, err := http.Post(r.moto.Endpoint+"/moto-api/state-manager/set-transition", "application/json", strings.NewReader(body))
	require.NoError(r.t, err, "moto state manager")
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		require.Failf(r.t, "moto state manager", "%s: %s", resp.Status, msg)
	}
}

// motoAPI calls one of moto's recorder actions.
func (r *rack) motoAPI(action string) string {
	r.t.Helper()
	resp, err := http.Post(r.moto.Endpoint+"/moto-api/recorder/"+action, "text/plain", nil)
	require.NoError(r.t, err, "moto recorder %s", action)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.EqualValues(r.t, 200, resp.StatusCode, "moto recorder %s: %s: %s", action, resp.Status, body)
	return string(body)
}

// call is one request moto received, decoded.
type call struct {
	Target string     // X-Amz-Target of JSON protocols, e.g. AmazonEC2ContainerServiceV20141113.RunTask
	Form   url.Values // query-protocol body (CloudFormation)
	Body   string
}

// action is the operation name of a call, whatever its protocol.
func (c call) action() string {
	if a := c.Form.Get("Action"); a != "" {
		return a
	}
	_, op, _ := strings.Cut(c.Target, ".")
	return op
}

// calls reads moto's recording of every request since the provider was made.
func (r *rack) calls() []call {
	r.t.Helper()
	data, err := os.ReadFile(r.recorded)
	if !os.IsNotExist(err) {
		require.NoError(r.t, err)
	}
	var out []call
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var e struct {
			Headers     map[string]string `json:"headers"`
			Body        string            `json:"body"`
			BodyEncoded bool              `json:"body_encoded"`
		}
		require.NoError(r.t, json.Unmarshal([]byte(line), &e), "moto recording")
		body := e.Body
		if e.BodyEncoded {
			raw, _ := base64.StdEncoding.DecodeString(e.Body)
			body = string(raw)
		}
		c := call{Body: body}
		for k, v := range e.Headers {
			if strings.EqualFold(k, "X-Amz-Target") {
				c.Target = v
			}
		}
		c.Form, _ = url.ParseQuery(body)
		out = append(out, c)
	}
	return out
}

// callsOf are the recorded calls of one action.
func (r *rack) callsOf(action string) []call {
	var out []call
	for _, c := range r.calls() {
		if c.action() == action {
			out = append(out, c)
		}
	}
	return out
}

// ptr is a pointer to v, for option structs.
func ptr[T any](v T) *T { return &v }

// withDefaults is params over the template's parameter defaults.
func withDefaults(t *testing.T, body []byte, params map[string]string) map[string]string {
	t.Helper()
	var tmpl struct {
		Parameters map[string]struct {
			Default *string
		}
	}
	require.NoError(t, json.Unmarshal(body, &tmpl), "rack template")
	out := map[string]string{}
	for k, p := range tmpl.Parameters {
		if p.Default != nil {
			out[k] = *p.Default
		}
	}
	for k, v := range params {
		out[k] = v
	}
	return out
}
