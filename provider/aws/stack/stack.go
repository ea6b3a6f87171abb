// Package stack reads and updates the rack's CloudFormation stack: its
// parameters, outputs and status, and parameter changes that keep the template
// and every untouched value as they are.
package stack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// API is the part of the CloudFormation client this package calls.
type API interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	UpdateStack(ctx context.Context, in *cloudformation.UpdateStackInput, opts ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
}

// Stack is a snapshot of the rack's stack.
type Stack struct {
	Name        string
	Status      string
	Parameters  map[string]string
	Outputs     map[string]string
	Tags        map[string]string
	LastUpdated time.Time
}

// Describe reads the named stack.
func Describe(ctx context.Context, api API, name string) (*Stack, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describing stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("describing stack %s: %d stacks returned", name, len(out.Stacks))
	}
	s := out.Stacks[0]
	st := &Stack{
		Name:       aws.ToString(s.StackName),
		Status:     string(s.StackStatus),
		Parameters: map[string]string{},
		Outputs:    map[string]string{},
		Tags:       map[string]string{},
	}
	if s.LastUpdatedTime != nil {
		st.LastUpdated = *s.LastUpdatedTime
	}
	for _, p := range s.Parameters {
		st.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for _, o := range s.Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, t := range s.Tags {
		st.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return st, nil
}

// Output is one output of the stack, or an error naming it when the stack lacks it.
func (s *Stack) Output(name string) (string, error) {
	v, ok := s.Outputs[name]
	if !ok || v == "" {
		return "", fmt.Errorf("stack %s has no output %s", s.Name, name)
	}
	return v, nil
}

// Busy reports whether the stack is in the middle of an operation.
func (s *Stack) Busy() bool {
	return strings.HasSuffix(s.Status, "_IN_PROGRESS")
}

// ErrUnknownParameter marks a change to a parameter the stack does not have.
var ErrUnknownParameter = errors.New("not a parameter of this stack")

// OutputUpdateRole is the stack output naming the role CloudFormation applies
// updates with: the rack API may only pass it (iam:PassRole), never act with its rights.
const OutputUpdateRole = "StackUpdateRole"

// UpdateInput is the UpdateStack request that sets changes and keeps the template
// and every other parameter of current as it is (UsePreviousValue), through the
// stack's update role when it has one.
func UpdateInput(current *Stack, changes map[string]string) (*cloudformation.UpdateStackInput, error) {
	var unknown []string
	for k := range changes {
		if _, ok := current.Parameters[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: %w", strings.Join(unknown, ", "), ErrUnknownParameter)
	}
	keys := make([]string, 0, len(current.Parameters))
	for k := range current.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	in := &cloudformation.UpdateStackInput{
		StackName:           aws.String(current.Name),
		UsePreviousTemplate: aws.Bool(true),
		Capabilities:        []types.Capability{types.CapabilityCapabilityIam, types.CapabilityCapabilityNamedIam},
	}
	if role := current.Outputs[OutputUpdateRole]; role != "" {
		in.RoleARN = aws.String(role)
	}
	for _, k := range keys {
		p := types.Parameter{ParameterKey: aws.String(k)}
		if v, ok := changes[k]; ok {
			p.ParameterValue = aws.String(v)
		} else {
			p.UsePreviousValue = aws.Bool(true)
		}
		in.Parameters = append(in.Parameters, p)
	}
	return in, nil
}

// Update sets changes on the stack named by current; changed is false when
// CloudFormation answers that there is nothing to update.
func Update(ctx context.Context, api API, current *Stack, changes map[string]string) (changed bool, err error) {
	in, err := UpdateInput(current, changes)
	if err != nil {
		return false, err
	}
	if _, err := api.UpdateStack(ctx, in); err != nil {
		if NoUpdates(err) {
			return false, nil
		}
		return false, fmt.Errorf("updating stack %s: %w", current.Name, err)
	}
	return true, nil
}

// NoUpdates reports whether err is CloudFormation's "No updates are to be performed".
func NoUpdates(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorMessage(), "No updates are to be performed")
}

// Wait polls the stack until no operation is in progress and returns its final
// snapshot; a rollback or failure is an error naming the status.
func Wait(ctx context.Context, api API, name string, every time.Duration) (*Stack, error) {
	for {
		s, err := Describe(ctx, api, name)
		if err != nil {
			return nil, err
		}
		if !s.Busy() {
			if strings.Contains(s.Status, "ROLLBACK") || strings.HasSuffix(s.Status, "_FAILED") {
				return s, fmt.Errorf("stack %s ended in %s", name, s.Status)
			}
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for stack %s: %w", name, ctx.Err())
		case <-time.After(every):
		}
	}
}
