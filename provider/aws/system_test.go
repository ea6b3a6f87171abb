package aws_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackSnapshot is what tells whether a stack was touched: its status, its
// parameters and how many events it has (moto keeps no last-updated time).
func (r *rack) stackSnapshot() string {
	r.t.Helper()
	cfn := cloudformation.NewFromConfig(r.cfg)
	out, err := cfn.DescribeStacks(r.ctx, &cloudformation.DescribeStacksInput{StackName: sdkaws.String(rackName)})
	require.NoError(r.t, err)
	ev, err := cfn.DescribeStackEvents(r.ctx, &cloudformation.DescribeStackEventsInput{StackName: sdkaws.String(rackName)})
	require.NoError(r.t, err)
	var ps []string
	for _, p := range out.Stacks[0].Parameters {
		ps = append(ps, sdkaws.ToString(p.ParameterKey)+"="+sdkaws.ToString(p.ParameterValue))
	}
	sort.Strings(ps)
	return fmt.Sprintf("%s events=%d %s", out.Stacks[0].StackStatus, len(ev.StackEvents), strings.Join(ps, " "))
}

func TestSystemParameters(t *testing.T) {
	r := newRack(t, nil)

	s, err := r.p.SystemGet()
	require.NoError(t, err)
	require.EqualValues(t, "aws", s.Provider, "SystemGet before = %+v", s)
	require.Equal(t, rackName, s.Name, "SystemGet before = %+v", s)
	require.EqualValues(t, "running", s.Status, "SystemGet before = %+v", s)
	require.EqualValues(t, "No", s.Parameters["BuildCache"], "SystemGet before = %+v", s)
	require.NotEmpty(t, s.Outputs["BuildCluster"], "SystemGet outputs lack BuildCluster: %v", s.Outputs)

	t.Run("bad values and names never reach CloudFormation", func(t *testing.T) {
		before := r.stackSnapshot()
		r.motoAPI("reset-recording")
		cases := []struct {
			params map[string]string
			want   []string
		}{
			{map[string]string{"BuildCache": "maybe"}, []string{"BuildCache", "Yes, No", `"maybe"`}},
			{map[string]string{"BuildCacheRetentionDays": "0"}, []string{"BuildCacheRetentionDays", "1 to 365", `"0"`}},
			{map[string]string{"BuildCacheRetentionDays": "366"}, []string{"BuildCacheRetentionDays", "1 to 365", `"366"`}},
			{map[string]string{"BuildCacheRetentionDays": "abc"}, []string{"BuildCacheRetentionDays", "1 to 365", `"abc"`}},
			{map[string]string{"BuildCahce": "Yes"}, []string{`unknown parameter "BuildCahce"`}},
			{map[string]string{"BuildEphemeral": "Yes"}, []string{"BuildEphemeral is not a parameter of an aws rack"}},
			// One good value does not slip through beside a bad one.
			{map[string]string{"BuildCache": "Yes", "BuildMethod": "lambda"}, []string{"BuildMethod", "ec2, fargate", `"lambda"`}},
		}
		for _, c := range cases {
			err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: c.params})
			if !assert.Error(t, err, "SystemUpdate(%v) accepted", c.params) {
				continue
			}
			assert.ErrorIs(t, err, structs.ErrInvalid, "SystemUpdate(%v) = %v, want a structs.ErrInvalid", c.params, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w, "SystemUpdate(%v) = %q, want it to say %q", c.params, err, w)
			}
		}
		require.Empty(t, r.callsOf("UpdateStack"), "moto received UpdateStack calls for invalid parameters")
		calls := r.calls()
		if len(calls) > 0 {
			require.Fail(t, fmt.Sprintf("invalid parameters reached AWS: %d calls, first %s", len(calls), calls[0].action()))
		}
		after := r.stackSnapshot()
		require.Equal(t, before, after, "stack changed:\n%s\n%s", before, after)
	})

	t.Run("BuildCache=Yes keeps every other parameter", func(t *testing.T) {
		before := r.stackSnapshot()
		err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
		require.NoError(t, err, "%v\n%s", err, r.moto.Logs())
		calls := r.callsOf("UpdateStack")
		require.Len(t, calls, 1, "moto received %d UpdateStack calls, want 1", len(calls))
		form := calls[0].Form
		assert.Equal(t, rackName, form.Get("StackName"), "UpdateStack stack/template = %q/%q/%d bytes of body", form.Get("StackName"), form.Get("UsePreviousTemplate"), len(form.Get("TemplateBody")))
		assert.EqualValues(t, "true", form.Get("UsePreviousTemplate"), "UpdateStack stack/template = %q/%q/%d bytes of body", form.Get("StackName"), form.Get("UsePreviousTemplate"), len(form.Get("TemplateBody")))
		assert.Empty(t, form.Get("TemplateBody"), "UpdateStack stack/template = %q/%q/%d bytes of body", form.Get("StackName"), form.Get("UsePreviousTemplate"), len(form.Get("TemplateBody")))
		role := r.outputs()["StackUpdateRole"]
		require.NotEmpty(t, role, "the stack has no StackUpdateRole output")
		assert.Equal(t, role, form.Get("RoleARN"), "UpdateStack goes through the stack's update role, the only one the API may pass")
		sent := map[string]string{}
		for i := 1; form.Get(member(i, "ParameterKey")) != ""; i++ {
			k := form.Get(member(i, "ParameterKey"))
			if form.Get(member(i, "UsePreviousValue")) == "true" {
				assert.Empty(t, form.Get(member(i, "ParameterValue")), "%s has both a value and UsePreviousValue", k)
				sent[k] = "(previous)"
			} else {
				sent[k] = form.Get(member(i, "ParameterValue"))
			}
		}
		assert.EqualValues(t, "Yes", sent["BuildCache"], "UpdateStack BuildCache = %q, want Yes", sent["BuildCache"])
		for k := range s.Parameters {
			assert.False(t, k != "BuildCache" && sent[k] != "(previous)", "UpdateStack %s = %q, want UsePreviousValue", k, sent[k])
		}
		assert.Len(t, sent, len(s.Parameters), "UpdateStack sent %d parameters, the stack has %d: %v", len(sent), len(s.Parameters), sent)
		got, err := r.p.SystemGet()
		require.NoError(t, err)
		require.EqualValues(t, "Yes", got.Parameters["BuildCache"], "SystemGet BuildCache = %q after the update", got.Parameters["BuildCache"])
		for k, v := range s.Parameters {
			assert.False(t, k != "BuildCache" && got.Parameters[k] != v, "%s changed from %q to %q", k, v, got.Parameters[k])
		}
		after := r.stackSnapshot()
		assert.False(t, after == before, "stack unchanged by the update: %s", after)
	})

	t.Run("no updates to perform is nothing to change", func(t *testing.T) {
		before := r.stackSnapshot()
		n := len(r.callsOf("UpdateStack"))
		err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
		require.NoError(t, err, "SystemUpdate with the current value: %v", err)
		got := len(r.callsOf("UpdateStack"))
		require.Equal(t, n+1, got, "UpdateStack calls %d -> %d, want one more (answered with no updates)", n, got)
		after := r.stackSnapshot()
		assert.Equal(t, before, after, "stack updated:\n%s\n%s", before, after)
		assert.Contains(t, r.log.String(), "at=system.update changed=false names=BuildCache", "log does not say nothing changed:\n%s", r.log)
	})

	t.Run("several values at once, waiting for the stack", func(t *testing.T) {
		p, err := aws.New(r.ctx, r.cfg, rackName, aws.WithUpdateWait(true), aws.WithPollInterval(50*time.Millisecond))
		require.NoError(t, err)
		err = p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "14"}})
		require.NoError(t, err)
		got, err := r.p.SystemGet()
		require.NoError(t, err)
		require.EqualValues(t, "Yes", got.Parameters["BuildCacheCleanup"], "parameters after update: %v", got.Parameters)
		require.EqualValues(t, "14", got.Parameters["BuildCacheRetentionDays"], "parameters after update: %v", got.Parameters)
		require.EqualValues(t, "Yes", got.Parameters["BuildCache"], "parameters after update: %v", got.Parameters)
	})

	t.Run("FromEnv reads the rack and the AWS settings from the environment", func(t *testing.T) {
		t.Setenv("RACK_NAME", "")
		_, err := aws.FromEnv(r.ctx)
		require.ErrorContains(t, err, "RACK_NAME", "FromEnv without RACK_NAME: %v", err)
		for k, v := range map[string]string{
			"RACK_NAME": rackName, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": r.moto.Endpoint,
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_CONFIG_FILE": "/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "", "RACK_URL": "http://convox:pw@rack.example",
		} {
			t.Setenv(k, v)
		}
		_, err = aws.FromEnv(r.ctx)
		require.ErrorContains(t, err, "RACK_BUILDS_TABLE", "FromEnv without the task definition's resource names: %v", err)
		for k, v := range r.apiEnvironment() {
			if strings.HasPrefix(k, "RACK_") && k != "RACK_URL" {
				t.Setenv(k, v)
			}
		}
		p, err := aws.FromEnv(r.ctx)
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		s, err := p.SystemGet()
		require.NoError(t, err)
		require.Equal(t, rackName, s.Name, "SystemGet through FromEnv = %+v", s)
		require.EqualValues(t, "us-east-1", s.Region, "SystemGet through FromEnv = %+v", s)
		require.EqualValues(t, "Yes", s.Parameters["BuildCache"], "SystemGet through FromEnv = %+v", s)
	})

	t.Run("every template parameter of the catalogue is on the stack", func(t *testing.T) {
		for _, pm := range params.All() {
			_, ok := s.Parameters[pm.Name]
			assert.False(t, pm.Template && !ok, "stack lacks %s", pm.Name)
		}
	})
}

// member is the query-protocol name of a field of the i-th parameter.
func member(i int, field string) string {
	return "Parameters.member." + strconv.Itoa(i) + "." + field
}
