package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/convox/rack/pkg/params"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

func registerRack(e *stdcli.Engine) {
	register(e, "rack", "get information about the rack", Rack, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack},
		Validate: stdcli.Args(0),
	})
	register(e, "rack params", "display rack parameters", RackParams, stdcli.CommandOptions{
		Flags: []stdcli.Flag{
			flagRack,
			stdcli.StringFlag("group", "g", "only the parameters of this group"),
			stdcli.BoolFlag("reveal", "", "show secret values"),
		},
		Validate: stdcli.Args(0),
	})
	// Validation happens before connecting, so a bad value never costs a request.
	e.Command("rack params set", "set rack parameters", RackParamsSet, stdcli.CommandOptions{
		Flags:    []stdcli.Flag{flagRack, flagWait},
		Usage:    "<Key=Value> [Key=Value]...",
		Validate: stdcli.ArgsMin(1),
	})
}

// Rack shows the rack.
func Rack(rack structs.Provider, c *stdcli.Context) error {
	s, err := rack.SystemGet()
	if err != nil {
		return err
	}
	i := c.Info()
	i.Add("Name", s.Name)
	i.Add("Provider", s.Provider)
	if s.Region != "" {
		i.Add("Region", s.Region)
	}
	i.Add("Status", s.Status)
	i.Add("Version", s.Version)
	return i.Print()
}

// RackParams lists the rack parameters, optionally one catalogue group,
// hiding secret values unless --reveal.
func RackParams(rack structs.Provider, c *stdcli.Context) error {
	group := ""
	if g := c.String("group"); g != "" {
		var err error
		if group, err = resolveGroup(g); err != nil {
			return err
		}
	}
	s, err := rack.SystemGet()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(s.Parameters))
	for k := range s.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	i := c.Info()
	for _, k := range keys {
		p, known := params.Lookup(k)
		if group != "" && (!known || p.Group != group) {
			continue
		}
		v := s.Parameters[k]
		if known && p.Secret && v != "" && !c.Bool("reveal") {
			v = "****"
		}
		i.Add(k, v)
	}
	if len(i.Rows) == 0 && group != "" {
		c.Writer().Stderr.Write([]byte(fmt.Sprintf("no parameters of group %s on this rack\n", group)))
		return nil
	}
	return i.Print()
}

// resolveGroup finds a catalogue group by name or unique prefix, ignoring case.
func resolveGroup(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	groups := params.Groups()
	var matches []string
	for _, g := range groups {
		if strings.ToLower(g) == name {
			return g, nil
		}
		if strings.HasPrefix(strings.ToLower(g), name) {
			matches = append(matches, g)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("group %q not found; available groups: %s", name, strings.Join(groups, ", "))
	}
	return "", fmt.Errorf("group %q matches multiple groups: %s", name, strings.Join(matches, ", "))
}

// RackParamsSet validates K=V pairs against the catalogue, then updates the rack.
func RackParamsSet(c *stdcli.Context) error {
	ps := map[string]string{}
	for _, arg := range c.Args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || k == "" {
			return fmt.Errorf("Key=Value expected: %s", arg)
		}
		ps[k] = v
	}
	if err := params.Validate(ps); err != nil {
		return err
	}
	rack, err := connect(c)
	if err != nil {
		return err
	}
	rc := rack.WithContext(c.Context)
	c.Startf("Updating parameters")
	if err := rc.SystemUpdate(structs.SystemUpdateOptions{Parameters: ps}); err != nil {
		return err
	}
	if c.Bool("wait") {
		err := waitWhile(c, "rack update", func() (string, error) {
			s, err := rc.SystemGet()
			if err != nil {
				return "", err
			}
			return s.Status, nil
		}, "updating", "rollback", "failed")
		if err != nil {
			return err
		}
	}
	return c.OK()
}
