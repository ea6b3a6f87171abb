package stack

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

func TestUpdateInput(t *testing.T) {
	current := &Stack{Name: "rack", Parameters: map[string]string{"A": "1", "B": "2", "C": "3"}}
	in, err := UpdateInput(current, map[string]string{"B": "20"})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(in.UsePreviousTemplate) || in.TemplateBody != nil || len(in.Parameters) != 3 {
		t.Fatalf("input = %+v", in)
	}
	for _, p := range in.Parameters {
		k := aws.ToString(p.ParameterKey)
		if k == "B" && (aws.ToString(p.ParameterValue) != "20" || p.UsePreviousValue != nil) {
			t.Errorf("B = %+v", p)
		}
		if k != "B" && (!aws.ToBool(p.UsePreviousValue) || p.ParameterValue != nil) {
			t.Errorf("%s = %+v, want UsePreviousValue only", k, p)
		}
	}
	if _, err := UpdateInput(current, map[string]string{"D": "4", "B": "1"}); !errors.Is(err, ErrUnknownParameter) {
		t.Errorf("unknown parameter: %v", err)
	}
}

func TestNoUpdates(t *testing.T) {
	if !NoUpdates(&smithy.GenericAPIError{Code: "ValidationError", Message: "No updates are to be performed."}) {
		t.Error("no-updates error not recognised")
	}
	if NoUpdates(&smithy.GenericAPIError{Code: "ValidationError", Message: "Parameter X is invalid"}) || NoUpdates(errors.New("No updates are to be performed.")) {
		t.Error("other errors taken for no updates")
	}
}
