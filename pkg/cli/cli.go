// Package cli is the convox command line on github.com/convox/stdcli: rack,
// rack params, apps, build, deploy, builds and releases, with the output of
// the Convox CLI (tables, "... OK", "ERROR: ..." on stderr with exit 1).
//
// Choosing a rack, first match wins:
//
//  1. -r/--rack NAME_OR_URL, else the CONVOX_RACK environment variable: a rack
//     URL such as https://convox:PASSWORD@host (http for a local rack), or a
//     name looked up in the "racks" settings file (a JSON object of name to
//     URL in the convox settings directory, e.g. ~/.config/convox/racks);
//  2. RACK_URL, a rack URL;
//  3. CONVOX_HOST (host[:port], https unless it names a scheme) with
//     CONVOX_PASSWORD, as the Convox CLI reads them.
//
// The app is -a/--app, else the name in .convox/app, else the name of the
// current directory.
package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convox/rack/pkg/sdk"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

// Handler is a command that talks to a rack.
type Handler func(rack structs.Provider, c *stdcli.Context) error

var (
	flagApp  = stdcli.StringFlag("app", "a", "app name")
	flagRack = stdcli.StringFlag("rack", "r", "rack name or URL")
	flagWait = stdcli.BoolFlag("wait", "w", "wait for completion")
	flagID   = stdcli.BoolFlag("id", "", "send logs to stderr, the release id to stdout")
)

// New returns the convox command line with every command registered.
func New(version string) *stdcli.Engine {
	e := stdcli.New("convox", version)
	e.Writer = writer()
	registerRack(e)
	registerApps(e)
	registerBuild(e)
	registerBuilds(e)
	registerReleases(e)
	return e
}

// writer is stdcli's default writer with the tags the commands use.
func writer() *stdcli.Writer {
	d := stdcli.DefaultWriter
	tags := map[string]stdcli.Renderer{}
	for k, v := range d.Tags {
		tags[k] = v
	}
	tags["app"] = stdcli.RenderColors(39)
	tags["build"] = stdcli.RenderColors(23)
	tags["release"] = stdcli.RenderColors(24)
	tags["dir"] = stdcli.RenderColors(246)
	return &stdcli.Writer{Color: d.Color, Stdout: d.Stdout, Stderr: d.Stderr, Tags: tags}
}

// register adds a command whose handler gets a client of the chosen rack.
func register(e *stdcli.Engine, command, description string, fn Handler, opts stdcli.CommandOptions) {
	e.Command(command, description, func(c *stdcli.Context) error {
		rack, err := connect(c)
		if err != nil {
			return err
		}
		return fn(rack.WithContext(c.Context), c)
	}, opts)
}

// connect returns a client of the rack chosen as the package doc says.
func connect(c *stdcli.Context) (*sdk.Client, error) {
	u, err := rackURL(c)
	if err != nil {
		return nil, err
	}
	return sdk.New(u)
}

func rackURL(c *stdcli.Context) (string, error) {
	if r := coalesce(c.String("rack"), os.Getenv("CONVOX_RACK")); r != "" {
		if strings.Contains(r, "://") {
			return r, nil
		}
		u, err := c.SettingReadKey("racks", r)
		if err != nil {
			return "", fmt.Errorf("read racks setting: %w", err)
		}
		if u == "" {
			return "", fmt.Errorf("unknown rack %q: pass a rack URL or add it to the racks setting", r)
		}
		return u, nil
	}
	if u := os.Getenv("RACK_URL"); u != "" {
		return u, nil
	}
	if h := os.Getenv("CONVOX_HOST"); h != "" {
		return hostURL(h, os.Getenv("CONVOX_PASSWORD")), nil
	}
	return "", fmt.Errorf("no rack: use --rack, or set RACK_URL, or CONVOX_HOST and CONVOX_PASSWORD")
}

// app returns the app the command is about.
func app(c *stdcli.Context) string {
	if a := c.String("app"); a != "" {
		return a
	}
	if a := c.LocalSetting("app"); a != "" {
		return a
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return strings.ToLower(filepath.Base(wd))
}

func coalesce(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
