package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

func registerBuilds(e *stdcli.Engine) {
	register(e, "builds", "list builds", Builds, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp, stdcli.IntFlag("limit", "", "number of builds to list")},
		Validate: stdcli.Args(0),
	})
	register(e, "builds info", "get information about a build", BuildsInfo, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp},
		Usage:    "<build>",
		Validate: stdcli.Args(1),
	})
	register(e, "builds logs", "get logs for a build", BuildsLogs, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp},
		Usage:    "<build>",
		Validate: stdcli.Args(1),
	})
	register(e, "builds export", "export a build", BuildsExport, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp, stdcli.StringFlag("file", "f", "export to file")},
		Usage:    "<build>",
		Validate: stdcli.Args(1),
	})
	register(e, "builds import", "import a build", BuildsImport, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagApp, flagID, stdcli.StringFlag("file", "f", "import from file")},
		Validate: stdcli.Args(0),
	})
}

// Builds lists the builds of an app, newest first.
func Builds(rack structs.Provider, c *stdcli.Context) error {
	var opts structs.BuildListOptions
	if n, ok := c.Value("limit").(int); ok {
		opts.Limit = &n
	}
	bs, err := rack.BuildList(app(c), opts)
	if err != nil {
		return err
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Started.After(bs[j].Started) })
	t := c.Table("ID", "STATUS", "RELEASE", "STARTED", "ELAPSED", "DESCRIPTION")
	for _, b := range bs {
		t.AddRow(b.Id, b.Status, b.Release, ago(b.Started), elapsed(b.Started, b.Ended), b.Description)
	}
	return t.Print()
}

// BuildsInfo shows one build, with its per-service cache summary when the build task reported one.
func BuildsInfo(rack structs.Provider, c *stdcli.Context) error {
	b, err := rack.BuildGet(app(c), c.Arg(0))
	if err != nil {
		return err
	}
	i := c.Info()
	i.Add("Id", b.Id)
	i.Add("Status", b.Status)
	if b.Reason != "" {
		i.Add("Reason", b.Reason)
	}
	i.Add("Release", b.Release)
	i.Add("Description", b.Description)
	if b.GitSha != "" {
		i.Add("Git SHA", b.GitSha)
	}
	i.Add("Started", ago(b.Started))
	i.Add("Elapsed", elapsed(b.Started, b.Ended))
	if b.Reused != "" {
		i.Add("Reused", "the images of build "+b.Reused+" (same inputs)")
	}
	if len(b.Cache) > 0 {
		i.Add("Cache", cacheSummary(b.Cache))
	}
	return i.Print()
}

// cacheSummary is one line per service, saying where its cached steps came
// from: "web  4/5 steps cached  12.3s  persistent cache (from the app's own cache)".
func cacheSummary(ss []structs.BuildServiceSummary) string {
	w := 0
	for _, s := range ss {
		w = max(w, len(s.Service))
	}
	lines := make([]string, len(ss))
	for i, s := range ss {
		pc := "local cache only"
		if s.PersistentCache {
			pc = "persistent cache"
			if s.CacheSource != "" {
				pc += " (from " + structs.CacheSourceText(s.CacheSource) + ")"
			}
		}
		lines[i] = fmt.Sprintf("%-*s  %d/%d steps cached  %.1fs  %s", w, s.Service, s.Cached, s.Steps, s.Seconds, pc)
	}
	return strings.Join(lines, "\n")
}

// BuildsLogs prints the logs of a build.
func BuildsLogs(rack structs.Provider, c *stdcli.Context) error {
	r, err := rack.BuildLogs(app(c), c.Arg(0), follow())
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(logOutput(c), r); err != nil {
		return err
	}
	return nil
}

// BuildsExport writes a build archive to --file or to stdout, never to a terminal.
func BuildsExport(rack structs.Provider, c *stdcli.Context) error {
	var w io.Writer
	if file := c.String("file"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	} else {
		if c.Writer().IsTerminal() {
			return fmt.Errorf("pipe this command into a file or specify --file")
		}
		w = c.Writer().Stdout
		c.Writer().Stdout = c.Writer().Stderr
	}
	c.Startf("Exporting build")
	if err := rack.BuildExport(app(c), c.Arg(0), w); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && c.String("file") != "" {
		if err := f.Close(); err != nil {
			return err
		}
	}
	return c.OK()
}

// BuildsImport creates a build from an archive read from --file or stdin, never from a terminal.
func BuildsImport(rack structs.Provider, c *stdcli.Context) error {
	restore := idMode(c)
	var r io.Reader
	if file := c.String("file"); file != "" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	} else {
		if c.Reader().IsTerminal() {
			return fmt.Errorf("pipe a file into this command or specify --file")
		}
		r = c.Reader()
	}
	c.Startf("Importing build")
	b, err := rack.BuildImport(app(c), r)
	if err != nil {
		return err
	}
	c.OK(b.Release)
	restore(b.Release)
	return nil
}
