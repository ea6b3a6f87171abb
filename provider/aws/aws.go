// Package aws is the rack provider for Amazon Web Services: rack parameters
// through the rack's CloudFormation stack, builds as ECS tasks (EC2 or
// Fargate), records in DynamoDB, objects in S3, logs in CloudWatch and images
// in ECR.
package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/convox/rack/pkg/buildarchive"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/images"
	"github.com/convox/rack/provider/aws/records"
	"github.com/convox/rack/provider/aws/stack"
)

// Registry hands out the login of the registry that holds app images: ECR in
// a rack, any registry in tests (moto's ECR does not serve images).
type Registry interface {
	Login(ctx context.Context) (images.Login, error)
}

// ecrRegistry logs in to the account's ECR registry.
type ecrRegistry struct{ api images.ECRAPI }

// Login asks ECR for a fresh authorization token.
func (r ecrRegistry) Login(ctx context.Context) (images.Login, error) {
	return images.ECRLogin(ctx, r.api)
}

// StaticRegistry is a registry with a fixed login.
type StaticRegistry images.Login

// Login returns the fixed login.
func (r StaticRegistry) Login(context.Context) (images.Login, error) { return images.Login(r), nil }

// The provider serves the whole rack API.
var _ structs.Provider = (*Provider)(nil)

// Provider is a rack on AWS, addressed by the name of its CloudFormation stack.
type Provider struct {
	ctx    context.Context
	rack   string
	region string

	cfn  *cloudformation.Client
	ecs  *ecs.Client
	ecr  *ecr.Client
	s3   *s3.Client
	ddb  *dynamodb.Client
	logs *cloudwatchlogs.Client

	res            Resources
	registry       Registry
	rackURL        string
	endpoint       string
	password       *passwordWatch
	waitUpdate     bool
	pollEvery      time.Duration
	archiveLimits  buildarchive.Limits
	now            func() time.Time
	watchEvery     time.Duration
	startTimeout   time.Duration
	missingTimeout time.Duration
	watcher        watcher

	logMu sync.Mutex
	log   io.Writer
}

// Option configures a Provider.
type Option func(*Provider)

// WithRegistry replaces ECR as the image registry for build pushes, exports and imports.
func WithRegistry(r Registry) Option { return func(p *Provider) { p.registry = r } }

// WithResources names the stack's resources (ResourcesFromEnv reads them from the API task's environment).
func WithResources(r Resources) Option { return func(p *Provider) { p.res = r } }

// WithRackURL is the RACK_URL build tasks call back on (it may carry the rack password).
func WithRackURL(u string) Option { return func(p *Provider) { p.rackURL = u } }

// WithEndpoint is the rack's URL without credentials: build tasks call back on
// it with the rack password as it is when each build starts (unless WithRackURL is given).
func WithEndpoint(u string) Option { return func(p *Provider) { p.endpoint = u } }

// WithPassword is the rack password; with a secret ("" for none) it is read
// again from Secrets Manager every refresh, so a changed password takes effect
// without a restart.
func WithPassword(initial string, secrets SecretsAPI, secret string, refresh time.Duration) Option {
	return func(p *Provider) {
		if secret == "" || secrets == nil {
			p.password = &passwordWatch{current: initial}
			return
		}
		p.password = watchPassword(p.ctx, secrets, secret, initial, refresh, p.logf)
	}
}

// CurrentPassword is the rack password now (the API checks clients against it); "" when none was given.
func (p *Provider) CurrentPassword() string {
	if p.password == nil {
		return ""
	}
	return p.password.get()
}

// callback is the URL a build task reports to: WithRackURL's, else the
// endpoint with the current password.
func (p *Provider) callback() (string, error) {
	if p.rackURL != "" || p.endpoint == "" {
		return p.rackURL, nil
	}
	return callbackURL("", p.endpoint, p.CurrentPassword())
}

// WithLog sends the provider's log lines to w; secrets never go there.
func WithLog(w io.Writer) Option { return func(p *Provider) { p.log = w } }

// WithUpdateWait makes SystemUpdate wait until the stack update has finished.
func WithUpdateWait(wait bool) Option { return func(p *Provider) { p.waitUpdate = wait } }

// WithPollInterval sets how often stack waits and followed logs poll AWS.
func WithPollInterval(d time.Duration) Option { return func(p *Provider) { p.pollEvery = d } }

// WithArchiveLimits bounds the archives BuildImport accepts.
func WithArchiveLimits(l buildarchive.Limits) Option {
	return func(p *Provider) { p.archiveLimits = l }
}

// New is a provider for the rack stack named rack, calling AWS through cfg.
// ctx bounds every AWS call the provider makes (the Provider interface has no contexts).
func New(ctx context.Context, cfg sdkaws.Config, rack string, opts ...Option) (*Provider, error) {
	if rack == "" {
		return nil, errors.New("rack name (the stack name) is required")
	}
	p := &Provider{
		ctx:            ctx,
		rack:           rack,
		region:         cfg.Region,
		cfn:            cloudformation.NewFromConfig(cfg),
		ecs:            ecs.NewFromConfig(cfg),
		ecr:            ecr.NewFromConfig(cfg),
		ddb:            dynamodb.NewFromConfig(cfg),
		logs:           cloudwatchlogs.NewFromConfig(cfg),
		pollEvery:      5 * time.Second,
		watchEvery:     defaultWatchInterval,
		startTimeout:   defaultStartTimeout,
		missingTimeout: defaultMissingTimeout,
		now:            time.Now,
		log:            io.Discard,
		// A custom endpoint (moto, a VPC endpoint) does not serve bucket subdomains.
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }),
	}
	p.registry = ecrRegistry{api: p.ecr}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// FromEnv is the provider cmd/rack runs with PROVIDER=aws, from the
// environment rack.json's API task definition gives it: RACK_NAME names the
// stack, the RACK_* resource variables (ResourcesFromEnv) name its tables,
// bucket, cluster and the rest, RACK_URL is what build tasks call back on (or
// RACK_ENDPOINT, the rack's URL without credentials, with the rack password),
// RACK_PASSWORD is the password ECS put there at start and RACK_PASSWORD_SECRET
// the secret it is read from again. The AWS SDK reads its usual variables
// (AWS_REGION, AWS_ENDPOINT_URL, credentials).
func FromEnv(ctx context.Context) (*Provider, error) {
	rack := os.Getenv("RACK_NAME")
	if rack == "" {
		return nil, errors.New("RACK_NAME is required")
	}
	res, err := ResourcesFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if _, err := callbackURL("", os.Getenv("RACK_ENDPOINT"), ""); err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading aws config: %w", err)
	}
	return New(ctx, cfg, rack, WithResources(res), WithRackURL(os.Getenv("RACK_URL")), WithEndpoint(os.Getenv("RACK_ENDPOINT")),
		WithPassword(os.Getenv("RACK_PASSWORD"), secretsmanager.NewFromConfig(cfg), res.PasswordSecret, DefaultPasswordRefresh),
		WithLog(os.Stdout))
}

// callbackURL is the URL build tasks report to: rackURL as given, else endpoint
// with the rack password as Basic auth credentials (user convox).
func callbackURL(rackURL, endpoint, password string) (string, error) {
	if rackURL != "" || endpoint == "" {
		return rackURL, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("RACK_ENDPOINT %q: an http or https URL of the rack API expected", endpoint)
	}
	u.User = url.UserPassword("convox", password)
	return u.String(), nil
}

// logf writes one log line prefixed with ns=aws.
func (p *Provider) logf(format string, args ...any) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.log, "ns=aws "+format+"\n", args...)
}

// stack reads the rack stack.
func (p *Provider) stack() (*stack.Stack, error) {
	return stack.Describe(p.ctx, p.cfn, p.rack)
}

// table is one of the stack's DynamoDB tables, by name, with its hash key.
func (p *Provider) table(name, key string) (records.Table, error) {
	if name == "" {
		return records.Table{}, errNoResources
	}
	return records.Table{API: p.ddb, Name: name, Key: key}, nil
}

// repositoryName is the ECR repository of an app: the stack's app repository
// prefix (else "{rack}/", lowercase as ECR wants) and the app name.
func (p *Provider) repositoryName(app string) string {
	// ECR wants lower case: a stack named with capitals still names valid repositories.
	prefix := strings.ToLower(p.res.AppRepositoryPrefix)
	if prefix == "" {
		prefix = strings.ToLower(p.rack) + "/"
	}
	return prefix + app
}

// invalid marks err as bad input (400) without changing its message.
func invalid(err error) error { return &kindError{err: err, kind: structs.ErrInvalid} }

// notFound marks err as a missing thing (404) without changing its message.
func notFound(err error) error { return &kindError{err: err, kind: structs.ErrNotFound} }

// kindError is an error that also is one of the structs error kinds.
type kindError struct {
	err  error
	kind error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// missing turns a records.ErrNotFound into a 404 naming what is missing.
func missing(err error, what, id string) error {
	if errors.Is(err, records.ErrNotFound) {
		return notFound(fmt.Errorf("%s %s not found", what, id))
	}
	return err
}

// redact replaces every secret value in s, for error text that might echo a request.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
