package stack

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateInput(t *testing.T) {
	current := &Stack{Name: "rack", Parameters: map[string]string{"A": "1", "B": "2", "C": "3"}}
	in, err := UpdateInput(current, map[string]string{"B": "20"})
	require.NoError(t, err)
	require.True(t, aws.ToBool(in.UsePreviousTemplate), "input = %+v", in)
	require.Nil(t, in.TemplateBody, "input = %+v", in)
	require.Len(t, in.Parameters, 3, "input = %+v", in)
	for _, p := range in.Parameters {
		k := aws.ToString(p.ParameterKey)
		assert.False(t, k == "B" && (aws.ToString(p.ParameterValue) != "20" || p.UsePreviousValue != nil), "B = %+v", p)
		assert.False(t, k != "B" && (!aws.ToBool(p.UsePreviousValue) || p.ParameterValue != nil), "%s = %+v, want UsePreviousValue only", k, p)
	}
	_, err = UpdateInput(current, map[string]string{"D": "4", "B": "1"})
	assert.ErrorIs(t, err, ErrUnknownParameter, "unknown parameter: %v", err)
}

// An update goes through the stack's update role (the rack API's own role cannot change the stack's resources).
func TestUpdateThroughTheStackRole(t *testing.T) {
	current := &Stack{Name: "rack", Parameters: map[string]string{"A": "1"}, Outputs: map[string]string{}}
	in, err := UpdateInput(current, map[string]string{"A": "2"})
	require.NoError(t, err)
	assert.Nil(t, in.RoleARN, "a stack without the output: no role")
	current.Outputs[OutputUpdateRole] = "arn:aws:iam::123456789012:role/rack-StackUpdateRole-X"
	in, err = UpdateInput(current, map[string]string{"A": "2"})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/rack-StackUpdateRole-X", aws.ToString(in.RoleARN))
}

func TestNoUpdates(t *testing.T) {
	assert.True(t, NoUpdates(&smithy.GenericAPIError{Code: "ValidationError", Message: "No updates are to be performed."}), "no-updates error not recognised")
	assert.False(t, NoUpdates(&smithy.GenericAPIError{Code: "ValidationError", Message: "Parameter X is invalid"}), "other errors taken for no updates")
	assert.False(t, NoUpdates(errors.New("No updates are to be performed.")), "other errors taken for no updates")
}
