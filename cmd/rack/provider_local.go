package main

import (
	"context"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/local"
)

// PROVIDER=local (the default): the one-machine rack, configured by RACK_* variables (see local.FromEnv).
func init() {
	providers["local"] = func(context.Context) (structs.Provider, error) {
		p, err := local.FromEnv()
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}
