// Package images reads and writes a build's service images in a registry:
// ECR login, finding the images tagged {service}.{build}, and retagging them
// into another repository.
package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Login is a registry host and its basic-auth credentials.
type Login struct {
	Host     string
	Username string
	Password string
}

// String hides the password, so a Login printed by mistake leaks nothing.
func (l Login) String() string {
	return fmt.Sprintf("%s@%s", l.Username, l.Host)
}

// AuthJSON is the BUILD_AUTH value: {"host":{"username":..,"password":..}}.
func (l Login) AuthJSON() string {
	data, _ := json.Marshal(map[string]map[string]string{
		l.Host: {"username": l.Username, "password": l.Password},
	})
	return string(data)
}

// authenticator is the login for go-containerregistry.
func (l Login) authenticator() authn.Authenticator {
	return &authn.Basic{Username: l.Username, Password: l.Password}
}

// Repository is the reference of repository name on this login's host.
func (l Login) Repository(repo string) string {
	return l.Host + "/" + repo
}

// ECRAPI is the part of the ECR client ECRLogin calls.
type ECRAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, opts ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// ECRLogin turns an ECR authorization token (base64 "user:password") into a Login.
func ECRLogin(ctx context.Context, api ECRAPI) (Login, error) {
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return Login{}, fmt.Errorf("ecr authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return Login{}, fmt.Errorf("ecr authorization token: none returned")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		// The token itself is a secret: say what is wrong, not what it is.
		return Login{}, fmt.Errorf("ecr authorization token: not base64")
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Login{}, fmt.Errorf("ecr authorization token: no user:password pair")
	}
	endpoint := aws.ToString(d.ProxyEndpoint)
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	return Login{Host: strings.TrimSuffix(host, "/"), Username: user, Password: password}, nil
}

// Tag is the image tag of service in build: {service}.{build}.
func Tag(service, build string) string {
	return service + "." + build
}

// Find returns the images of build in repo (a full reference without tag), by service.
func Find(ctx context.Context, l Login, repo, build string) (map[string]v1.Image, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repo, err)
	}
	tags, err := remote.List(r, remote.WithContext(ctx), remote.WithAuth(l.authenticator()))
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	out := map[string]v1.Image{}
	for _, tag := range tags {
		service, ok := strings.CutSuffix(tag, "."+build)
		if !ok || service == "" {
			continue
		}
		img, err := remote.Image(r.Tag(tag), remote.WithContext(ctx), remote.WithAuth(l.authenticator()))
		if err != nil {
			return nil, fmt.Errorf("reading %s:%s: %w", repo, tag, err)
		}
		out[service] = img
	}
	return out, nil
}

// Push writes img to repo:tag.
func Push(ctx context.Context, l Login, repo, tag string, img v1.Image) error {
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		return fmt.Errorf("image reference %s:%s: %w", repo, tag, err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(l.authenticator())); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}
