package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

// buildFlags are the flags of build and deploy.
func buildFlags() []stdcli.Flag {
	return []stdcli.Flag{
		flagRack, flagApp, flagID,
		stdcli.StringSliceFlag("build-args", "", "docker build argument KEY=VALUE (repeatable)"),
		stdcli.StringFlag("description", "d", "description of the build and its release"),
		stdcli.BoolFlag("development", "", "create a development build (targets a development stage)"),
		stdcli.StringFlag("manifest", "m", "manifest file (default convox.yml)"),
		stdcli.BoolFlag("no-cache", "", "do not reuse cached layers"),
		stdcli.BoolFlag("wildcard-domain", "", wildcardNote),
	}
}

// wildcardNote says what --wildcard-domain does on this rack: it runs no load
// balancer for apps, so the flag is stored on the build and nothing else.
const wildcardNote = "--wildcard-domain is stored on the build only: this rack runs no load balancer for apps, so no listener rule or certificate"

func registerBuild(e *stdcli.Engine) {
	register(e, "build", "create a build ("+wildcardNote+")", Build, stdcli.CommandOptions{
		Flags:    buildFlags(),
		Usage:    "[dir]",
		Validate: stdcli.ArgsMax(1),
	})
	register(e, "deploy", "create and promote a build ("+wildcardNote+")", Deploy, stdcli.CommandOptions{
		Flags:    append(buildFlags(), flagWait),
		Usage:    "[dir]",
		Validate: stdcli.ArgsMax(1),
	})
}

// Build packages the source, builds it on the rack and waits for the outcome.
func Build(rack structs.Provider, c *stdcli.Context) error {
	restore := idMode(c)
	b, err := build(rack, c)
	if err != nil {
		return err
	}
	c.Writef("Build:   <build>%s</build>\n", b.Id)
	c.Writef("Release: <release>%s</release>\n", b.Release)
	restore(b.Release)
	return nil
}

// Deploy builds, then promotes the release of the build.
func Deploy(rack structs.Provider, c *stdcli.Context) error {
	restore := idMode(c)
	b, err := build(rack, c)
	if err != nil {
		return err
	}
	if b.Release == "" {
		return fmt.Errorf("build %s created no release", b.Id)
	}
	if err := promote(rack, c, b.Release); err != nil {
		return err
	}
	restore(b.Release)
	return nil
}

// idMode sends output to stderr under --id; the returned func prints the
// release id on the real stdout.
func idMode(c *stdcli.Context) func(release string) {
	if !c.Bool("id") {
		return func(string) {}
	}
	stdout := c.Writer().Stdout
	c.Writer().Stdout = c.Writer().Stderr
	return func(release string) { fmt.Fprint(stdout, release) }
}

// buildOptions maps the command line flags to BuildCreate options.
func buildOptions(c *stdcli.Context) structs.BuildCreateOptions {
	var opts structs.BuildCreateOptions
	str := func(name string) *string {
		if v, ok := c.Value(name).(string); ok {
			return &v
		}
		return nil
	}
	flag := func(name string) *bool {
		if v, ok := c.Value(name).(bool); ok && v {
			return &v
		}
		return nil
	}
	if args := c.StringSlice("build-args"); len(args) > 0 {
		opts.BuildArgs = args
	}
	opts.Description = str("description")
	opts.Manifest = str("manifest")
	opts.Development = flag("development")
	opts.NoCache = flag("no-cache")
	opts.WildcardDomain = flag("wildcard-domain")
	return opts
}

func build(rack structs.Provider, c *stdcli.Context) (*structs.Build, error) {
	a := app(c)
	dir := coalesce(c.Arg(0), ".")
	opts := buildOptions(c)
	for _, arg := range opts.BuildArgs {
		if k, _, ok := strings.Cut(arg, "="); !ok || k == "" {
			return nil, fmt.Errorf("invalid build arg %q: KEY=VALUE expected", arg)
		}
	}
	if sha, desc := gitInfo(dir); sha != "" {
		opts.GitSha = &sha
		if opts.Description == nil {
			opts.Description = &desc
		}
	}

	c.Startf("Packaging source")
	src, err := os.CreateTemp("", "convox-source-*.tgz")
	if err != nil {
		return nil, fmt.Errorf("package source: %w", err)
	}
	defer os.Remove(src.Name())
	defer src.Close()
	manifestName := ""
	if opts.Manifest != nil {
		manifestName = *opts.Manifest
	}
	if err := sourceTarball(dir, manifestName, src); err != nil {
		return nil, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("package source: %w", err)
	}
	c.OK()

	c.Startf("Uploading source")
	o, err := rack.ObjectStore(a, "tmp/"+randomKey()+".tgz", src, structs.ObjectStoreOptions{})
	if err != nil {
		return nil, err
	}
	c.OK()

	c.Startf("Starting build")
	b, err := rack.BuildCreate(a, o.Url, opts)
	if err != nil {
		return nil, err
	}
	c.OK()

	if r, err := rack.BuildLogs(a, b.Id, follow()); err != nil {
		fmt.Fprintf(c.Writer().Stderr, "WARNING: no build logs: %v\n", err)
	} else {
		if _, err := io.Copy(logOutput(c), r); err != nil {
			fmt.Fprintf(c.Writer().Stderr, "WARNING: build logs interrupted: %v\n", err)
		}
		r.Close() // a broken stream is not a failed build: the status decides
	}
	for {
		if b, err = rack.BuildGet(a, b.Id); err != nil {
			return nil, err
		}
		if b.Terminal() {
			break
		}
		select {
		case <-c.Done():
			return nil, c.Err()
		case <-time.After(buildPoll()):
		}
	}
	if b.Status == structs.BuildStatusFailed {
		if b.Reason != "" {
			return nil, fmt.Errorf("build failed: %s", b.Reason)
		}
		return nil, fmt.Errorf("build failed")
	}
	return b, nil
}

// buildPoll is the wait between status checks once the log stream ended.
func buildPoll() time.Duration {
	if pollInterval < time.Second {
		return pollInterval
	}
	return time.Second
}

// randomKey names an upload so concurrent builds never collide.
func randomKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
