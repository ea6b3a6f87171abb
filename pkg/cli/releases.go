package cli

import (
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

func registerReleases(e *stdcli.Engine) {
	register(e, "releases", "list releases for an app", Releases, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp, stdcli.IntFlag("limit", "", "number of releases to list")},
		Validate: stdcli.Args(0),
	})
	register(e, "releases promote", "promote a release", ReleasesPromote, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp, flagWait},
		Usage:    "<release>",
		Validate: stdcli.Args(1),
	})
}

// Releases lists the releases of an app, newest first, marking the active one.
func Releases(rack structs.Provider, c *stdcli.Context) error {
	a, err := rack.AppGet(app(c))
	if err != nil {
		return err
	}
	var opts structs.ReleaseListOptions
	if n, ok := c.Value("limit").(int); ok {
		opts.Limit = &n
	}
	rs, err := rack.ReleaseList(a.Name, opts)
	if err != nil {
		return err
	}
	t := c.Table("ID", "STATUS", "BUILD", "CREATED", "DESCRIPTION")
	for _, r := range rs {
		status := ""
		if r.Id == a.Release {
			status = "active"
		}
		t.AddRow(r.Id, status, r.Build, ago(r.Created), r.Description)
	}
	return t.Print()
}

// ReleasesPromote makes a release active.
func ReleasesPromote(rack structs.Provider, c *stdcli.Context) error {
	return promote(rack, c, c.Arg(0))
}

// promote promotes release and, with --wait, waits for the app to settle.
func promote(rack structs.Provider, c *stdcli.Context, release string) error {
	a := app(c)
	c.Startf("Promoting <release>%s</release>", release)
	if err := rack.ReleasePromote(a, release, structs.ReleasePromoteOptions{}); err != nil {
		return err
	}
	if c.Bool("wait") {
		if err := waitApp(rack, c, a); err != nil {
			return err
		}
	}
	return c.OK()
}
