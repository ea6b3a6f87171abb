package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/buildtask"
)

// With BUILD_REGISTRY_LOGIN=ecr the task asks ECR (moto here) with its own
// credentials, and logs in to the push and cache registries with that token.
func TestECRLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := testenv.StartMoto(t)
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": m.Endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := ecr.NewFromConfig(m.AWSConfig(t)).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	require.NoError(t, err)
	user, password, _ := strings.Cut(string(raw), ":")

	spec := buildtask.Spec{Push: "1234.dkr.ecr.us-east-1.amazonaws.com/rack/web", CacheRepo: "5678.dkr.ecr.us-east-1.amazonaws.com/rack-build-cache",
		Auth: `{"mirror.example":{"username":"u","password":"p"}}`}
	same, err := withRegistryLogin(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, spec, same, "no registry login asked for: the spec is left alone")

	spec.RegistryLogin = buildtask.LoginECR
	got, err := withRegistryLogin(ctx, spec)
	require.NoError(t, err)
	var auth map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(got.Auth), &auth))
	for _, host := range []string{"1234.dkr.ecr.us-east-1.amazonaws.com", "5678.dkr.ecr.us-east-1.amazonaws.com"} {
		assert.Equal(t, map[string]string{"username": user, "password": password}, auth[host], "login for %s", host)
	}
	assert.Equal(t, map[string]string{"username": "u", "password": "p"}, auth["mirror.example"], "logins given in BUILD_AUTH are kept")

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	_, err = withRegistryLogin(ctx, spec)
	assert.ErrorContains(t, err, "ecr authorization token", "ECR unreachable: the build fails, naming why")
}

// The task reports with RACK_PASSWORD when RACK_URL has no password, as Basic auth.
func TestRackClientPassword(t *testing.T) {
	got := make(chan string, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Authorization"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name":"r"}`))
	}))
	defer ts.Close()
	c, err := rackClient(buildtask.Spec{RackURL: ts.URL, RackPassword: "from-secret"})
	require.NoError(t, err)
	_, err = c.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("convox:from-secret")), <-got)

	_, err = rackClient(buildtask.Spec{})
	assert.ErrorContains(t, err, "RACK_URL")
}
