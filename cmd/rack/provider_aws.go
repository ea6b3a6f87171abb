package main

import (
	"context"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws"
)

// PROVIDER=aws: the CloudFormation rack, configured by RACK_NAME, RACK_URL and the AWS SDK's variables.
func init() {
	providers["aws"] = func(ctx context.Context) (structs.Provider, error) {
		p, err := aws.FromEnv(ctx)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}
