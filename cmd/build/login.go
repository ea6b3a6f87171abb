package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/provider/aws/images"
)

// rackClient is the client of the rack API the spec reports to: RACK_URL, with
// RACK_PASSWORD as its password when the URL carries none (an ECS build task
// gets the password from the stack's secret, never in its overrides).
func rackClient(spec buildtask.Spec) (*sdk.Client, error) {
	if spec.RackURL == "" {
		return nil, fmt.Errorf("%s not set", buildtask.EnvRackURL)
	}
	u, err := url.Parse(spec.RackURL)
	if err != nil {
		return nil, fmt.Errorf("%s: not a URL", buildtask.EnvRackURL)
	}
	if _, has := u.User.Password(); !has && spec.RackPassword != "" {
		u.User = url.UserPassword("convox", spec.RackPassword)
	}
	return sdk.New(u.String())
}

// withRegistryLogin is spec with the logins its RegistryLogin asks for added to Auth.
func withRegistryLogin(ctx context.Context, spec buildtask.Spec) (buildtask.Spec, error) {
	if spec.RegistryLogin != buildtask.LoginECR {
		return spec, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return spec, fmt.Errorf("aws config for the ecr login: %w", err)
	}
	return ecrLogin(ctx, spec, ecr.NewFromConfig(cfg))
}

// ecrLogin adds an ECR token, asked for with the task's own credentials (its
// task role), for the registry hosts of the push and cache repositories and the
// account's registry, to the spec's Auth.
func ecrLogin(ctx context.Context, spec buildtask.Spec, api images.ECRAPI) (buildtask.Spec, error) {
	login, err := images.ECRLogin(ctx, api)
	if err != nil {
		return spec, err
	}
	auth := map[string]map[string]string{}
	if spec.Auth != "" {
		if err := json.Unmarshal([]byte(spec.Auth), &auth); err != nil {
			return spec, fmt.Errorf("%s: not registry logins as JSON", buildtask.EnvAuth)
		}
	}
	for _, ref := range []string{login.Host + "/", spec.Push, spec.CacheRepo} {
		if host, _, ok := strings.Cut(ref, "/"); ok && host != "" {
			auth[host] = map[string]string{"username": login.Username, "password": login.Password}
		}
	}
	data, err := json.Marshal(auth)
	if err != nil {
		return spec, err
	}
	spec.Auth = string(data)
	return spec, nil
}
