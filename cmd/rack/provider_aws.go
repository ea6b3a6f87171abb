package main

import (
	"context"
	"fmt"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
)

// PROVIDER=aws: the CloudFormation rack, configured by the environment its
// task definition in rack.json gives it (aws.FromEnv) and the AWS SDK's
// variables. It watches every build that has not ended, those it finds at start included.
func init() {
	providers["aws"] = func(ctx context.Context) (structs.Provider, error) {
		p, err := aws.FromEnv(ctx)
		if err != nil {
			return nil, err
		}
		if err := p.Watch(); err != nil {
			p.Close()
			return nil, fmt.Errorf("watching build tasks: %w", err)
		}
		return p, nil
	}
}
