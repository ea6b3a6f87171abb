package cli

import (
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

func registerApps(e *stdcli.Engine) {
	register(e, "apps", "list apps", Apps, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack},
		Validate: stdcli.Args(0),
	})
	register(e, "apps create", "create an app", AppsCreate, stdcli.CommandOptions{
		Flags: []stdcli.Flag{
			flagRack, flagApp, flagWait,
			stdcli.StringFlag("generation", "g", "app generation (1 or 2)"),
		},
		Usage:    "[name]",
		Validate: stdcli.ArgsMax(1),
	})
}

// Apps lists the apps of the rack.
func Apps(rack structs.Provider, c *stdcli.Context) error {
	as, err := rack.AppList()
	if err != nil {
		return err
	}
	t := c.Table("APP", "STATUS", "GEN", "RELEASE")
	for _, a := range as {
		t.AddRow(a.Name, a.Status, a.Generation, a.Release)
	}
	return t.Print()
}

// AppsCreate creates an app named by the argument, else by -a or the directory.
func AppsCreate(rack structs.Provider, c *stdcli.Context) error {
	name := coalesce(c.Arg(0), app(c))
	var opts structs.AppCreateOptions
	if g := c.String("generation"); g != "" {
		opts.Generation = &g
	}
	c.Startf("Creating <app>%s</app>", name)
	if _, err := rack.AppCreate(name, opts); err != nil {
		return err
	}
	if c.Bool("wait") {
		if err := waitApp(rack, c, name); err != nil {
			return err
		}
	}
	return c.OK()
}

// waitApp waits until the app is no longer creating or updating.
func waitApp(rack structs.Provider, c *stdcli.Context, name string) error {
	get := func() (string, error) {
		a, err := rack.AppGet(name)
		if err != nil {
			return "", err
		}
		if a.Status == "creating" {
			return "updating", nil
		}
		return a.Status, nil
	}
	return waitWhile(c, "app "+name, get, "updating", "rollback", "failed")
}
