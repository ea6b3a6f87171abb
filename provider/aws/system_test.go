package aws_test

import (
	"errors"
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
)

// stackSnapshot is what tells whether a stack was touched: its status, its
// parameters and how many events it has (moto keeps no last-updated time).
func (r *rack) stackSnapshot() string {
	r.t.Helper()
	cfn := cloudformation.NewFromConfig(r.cfg)
	out, err := cfn.DescribeStacks(r.ctx, &cloudformation.DescribeStacksInput{StackName: sdkaws.String(rackName)})
	if err != nil {
		r.t.Fatal(err)
	}
	ev, err := cfn.DescribeStackEvents(r.ctx, &cloudformation.DescribeStackEventsInput{StackName: sdkaws.String(rackName)})
	if err != nil {
		r.t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if s.Provider != "aws" || s.Name != rackName || s.Status != "running" || s.Parameters["BuildCache"] != "No" {
		t.Fatalf("SystemGet before = %+v", s)
	}
	if s.Outputs["BuildCluster"] == "" {
		t.Fatalf("SystemGet outputs lack BuildCluster: %v", s.Outputs)
	}

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
			if err == nil {
				t.Errorf("SystemUpdate(%v) accepted", c.params)
				continue
			}
			if !errors.Is(err, structs.ErrInvalid) {
				t.Errorf("SystemUpdate(%v) = %v, want a structs.ErrInvalid", c.params, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("SystemUpdate(%v) = %q, want it to say %q", c.params, err, w)
				}
			}
		}
		if calls := r.callsOf("UpdateStack"); len(calls) != 0 {
			t.Fatalf("moto received %d UpdateStack calls for invalid parameters", len(calls))
		}
		if calls := r.calls(); len(calls) != 0 {
			t.Fatalf("invalid parameters reached AWS: %d calls, first %s", len(calls), calls[0].action())
		}
		if after := r.stackSnapshot(); after != before {
			t.Fatalf("stack changed:\n%s\n%s", before, after)
		}
	})

	t.Run("BuildCache=Yes keeps every other parameter", func(t *testing.T) {
		before := r.stackSnapshot()
		if err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}}); err != nil {
			t.Fatalf("%v\n%s", err, r.moto.Logs())
		}
		calls := r.callsOf("UpdateStack")
		if len(calls) != 1 {
			t.Fatalf("moto received %d UpdateStack calls, want 1", len(calls))
		}
		form := calls[0].Form
		if form.Get("StackName") != rackName || form.Get("UsePreviousTemplate") != "true" || form.Get("TemplateBody") != "" {
			t.Errorf("UpdateStack stack/template = %q/%q/%d bytes of body", form.Get("StackName"), form.Get("UsePreviousTemplate"), len(form.Get("TemplateBody")))
		}
		sent := map[string]string{}
		for i := 1; form.Get(member(i, "ParameterKey")) != ""; i++ {
			k := form.Get(member(i, "ParameterKey"))
			if form.Get(member(i, "UsePreviousValue")) == "true" {
				if form.Get(member(i, "ParameterValue")) != "" {
					t.Errorf("%s has both a value and UsePreviousValue", k)
				}
				sent[k] = "(previous)"
			} else {
				sent[k] = form.Get(member(i, "ParameterValue"))
			}
		}
		if sent["BuildCache"] != "Yes" {
			t.Errorf("UpdateStack BuildCache = %q, want Yes", sent["BuildCache"])
		}
		for k := range s.Parameters {
			if k != "BuildCache" && sent[k] != "(previous)" {
				t.Errorf("UpdateStack %s = %q, want UsePreviousValue", k, sent[k])
			}
		}
		if len(sent) != len(s.Parameters) {
			t.Errorf("UpdateStack sent %d parameters, the stack has %d: %v", len(sent), len(s.Parameters), sent)
		}
		got, err := r.p.SystemGet()
		if err != nil {
			t.Fatal(err)
		}
		if got.Parameters["BuildCache"] != "Yes" {
			t.Fatalf("SystemGet BuildCache = %q after the update", got.Parameters["BuildCache"])
		}
		for k, v := range s.Parameters {
			if k != "BuildCache" && got.Parameters[k] != v {
				t.Errorf("%s changed from %q to %q", k, v, got.Parameters[k])
			}
		}
		if after := r.stackSnapshot(); after == before {
			t.Errorf("stack unchanged by the update: %s", after)
		}
	})

	t.Run("no updates to perform is nothing to change", func(t *testing.T) {
		before := r.stackSnapshot()
		n := len(r.callsOf("UpdateStack"))
		if err := r.p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}}); err != nil {
			t.Fatalf("SystemUpdate with the current value: %v", err)
		}
		if got := len(r.callsOf("UpdateStack")); got != n+1 {
			t.Fatalf("UpdateStack calls %d -> %d, want one more (answered with no updates)", n, got)
		}
		if after := r.stackSnapshot(); after != before {
			t.Errorf("stack updated:\n%s\n%s", before, after)
		}
		if !strings.Contains(r.log.String(), "at=system.update changed=false names=BuildCache") {
			t.Errorf("log does not say nothing changed:\n%s", r.log)
		}
	})

	t.Run("several values at once, waiting for the stack", func(t *testing.T) {
		p, err := aws.New(r.ctx, r.cfg, rackName, aws.WithUpdateWait(true), aws.WithPollInterval(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		err = p.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "14"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.p.SystemGet()
		if err != nil {
			t.Fatal(err)
		}
		if got.Parameters["BuildCacheCleanup"] != "Yes" || got.Parameters["BuildCacheRetentionDays"] != "14" || got.Parameters["BuildCache"] != "Yes" {
			t.Fatalf("parameters after update: %v", got.Parameters)
		}
	})

	t.Run("FromEnv reads the rack and the AWS settings from the environment", func(t *testing.T) {
		t.Setenv("RACK_NAME", "")
		if _, err := aws.FromEnv(r.ctx); err == nil || !strings.Contains(err.Error(), "RACK_NAME") {
			t.Fatalf("FromEnv without RACK_NAME: %v", err)
		}
		for k, v := range map[string]string{
			"RACK_NAME": rackName, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": r.moto.Endpoint,
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_CONFIG_FILE": "/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "", "RACK_URL": "http://convox:pw@rack.example",
		} {
			t.Setenv(k, v)
		}
		p, err := aws.FromEnv(r.ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := p.SystemGet()
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != rackName || s.Region != "us-east-1" || s.Parameters["BuildCache"] != "Yes" {
			t.Fatalf("SystemGet through FromEnv = %+v", s)
		}
	})

	t.Run("every template parameter of the catalogue is on the stack", func(t *testing.T) {
		for _, pm := range params.All() {
			if _, ok := s.Parameters[pm.Name]; pm.Template && !ok {
				t.Errorf("stack lacks %s", pm.Name)
			}
		}
	})
}

// member is the query-protocol name of a field of the i-th parameter.
func member(i int, field string) string {
	return "Parameters.member." + strconv.Itoa(i) + "." + field
}
