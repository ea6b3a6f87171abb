package manifest

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/convox/rack/pkg/manifest/yamlnode"
	"gopkg.in/yaml.v3"
)

// Allowed field names, in the order they are listed in messages.
var (
	topFields      = []string{"environment", "resources", "services", "timers"}
	serviceFields  = []string{"build", "command", "domain", "environment", "health", "image", "internal", "port", "resources", "scale", "test"}
	buildFields    = []string{"args", "manifest", "path"}
	healthFields   = []string{"grace", "interval", "path", "timeout"}
	scaleFields    = []string{"count", "cpu", "memory"}
	resourceFields = []string{"options", "type"}
	timerFields    = []string{"command", "schedule", "service"}
)

// decoder walks the YAML nodes of one file and collects every problem.
type decoder struct {
	yamlnode.Problems
}

func (d *decoder) manifest(top *yaml.Node) *Manifest {
	m := &Manifest{}
	for _, p := range d.Pairs("", top) {
		switch p.Key {
		case "environment":
			m.Environment = d.strings("environment", p)
		case "resources":
			for _, r := range d.Pairs("resources", p.Value) {
				m.Resources = append(m.Resources, d.resource(r))
			}
		case "services":
			for _, s := range d.Pairs("services", p.Value) {
				m.Services = append(m.Services, d.service(s))
			}
		case "timers":
			for _, t := range d.Pairs("timers", p.Value) {
				m.Timers = append(m.Timers, d.timer(t))
			}
		default:
			if !strings.HasPrefix(p.Key, "x-") { // x- keys hold YAML anchors
				d.Unknown("", p, topFields)
			}
		}
	}
	if len(m.Services) == 0 && d.Len() == 0 {
		d.Add("", 0, "has no services; define at least one under services")
	}
	return m
}

func (d *decoder) service(p yamlnode.Pair) Service {
	s := Service{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("service %q", p.Key)
	var hasBuild bool
	for _, f := range d.Pairs(scope, p.Value) {
		switch f.Key {
		case "build":
			hasBuild = true
			s.Build = d.build(scope, f)
		case "command":
			s.Command = d.Text(scope, f)
		case "domain":
			v, err := yamlnode.StringOrStrings(f.Value)
			d.Field(scope, f, err)
			s.Domains = v
		case "environment":
			s.Environment = d.strings(scope+": environment", f)
		case "health":
			s.Health = d.health(scope, f)
		case "image":
			s.Image = d.Text(scope, f)
		case "internal":
			v, err := yamlnode.Bool(f.Value)
			d.Field(scope, f, err)
			s.Internal = v
		case "port":
			s.Port = d.port(scope, f)
		case "resources":
			s.Resources = d.strings(scope+": resources", f)
		case "scale":
			s.Scale = d.scale(scope, f)
		case "test":
			s.Test = d.Text(scope, f)
		default:
			d.Unknown(scope, f, serviceFields)
		}
	}
	switch {
	case hasBuild && s.Image != "":
		d.Add(scope, yamlnode.Line(p.Value), "has both build and image; use build to build from source or image to pull")
		s.Image = ""
	case !hasBuild && s.Image == "":
		s.Build = ServiceBuild{Path: DefaultBuildPath, Manifest: DefaultDockerfile}
	}
	return s
}

// natural reads a whole number of 0 or more (seconds, CPU units, MiB).
func (d *decoder) natural(scope string, f yamlnode.Pair) int {
	v, err := yamlnode.Int(f.Value)
	if err != nil || v < 0 {
		d.Add(scope, f.Line, "%s: must be a whole number of 0 or more, got %s", f.Key, yamlnode.Describe(f.Value))
		return 0
	}
	return v
}

// strings reads a list of text; scope already names the field.
func (d *decoder) strings(scope string, f yamlnode.Pair) []string {
	v, err := yamlnode.Strings(f.Value)
	if err != nil {
		d.Add(scope, f.Line, "%v", err)
	}
	return v
}

// build reads `build: path` or `build: {path, manifest, args}`.
func (d *decoder) build(scope string, f yamlnode.Pair) ServiceBuild {
	b := ServiceBuild{Path: DefaultBuildPath, Manifest: DefaultDockerfile}
	if n := yamlnode.Resolve(f.Value); n != nil && n.Kind == yaml.MappingNode {
		for _, g := range d.Pairs(scope+": build", n) {
			switch g.Key {
			case "path":
				b.Path = d.Text(scope+": build", g)
			case "manifest":
				b.Manifest = d.Text(scope+": build", g)
			case "args":
				b.Args = d.strings(scope+": build: args", g)
			default:
				d.Unknown(scope+": build", g, buildFields)
			}
		}
	} else if v, err := yamlnode.String(f.Value); err != nil {
		d.Add(scope, f.Line, "build: must be a path or a mapping of %s, got %s", strings.Join(buildFields, ", "), yamlnode.Describe(f.Value))
	} else {
		b.Path = v
	}
	b.Path = path.Clean(b.Path) // "" becomes "."
	if b.Manifest == "" {
		b.Manifest = DefaultDockerfile
	}
	return b
}

// health reads `health: /path` or `health: {path, grace, interval, timeout}`.
func (d *decoder) health(scope string, f yamlnode.Pair) ServiceHealth {
	var h ServiceHealth
	n := yamlnode.Resolve(f.Value)
	if n == nil || n.Kind != yaml.MappingNode {
		h.Path = d.Text(scope, f)
		return h
	}
	for _, g := range d.Pairs(scope+": health", n) {
		switch g.Key {
		case "path":
			h.Path = d.Text(scope+": health", g)
		case "grace":
			h.Grace = d.natural(scope+": health", g)
		case "interval":
			h.Interval = d.natural(scope+": health", g)
		case "timeout":
			h.Timeout = d.natural(scope+": health", g)
		default:
			d.Unknown(scope+": health", g, healthFields)
		}
	}
	return h
}

// port reads `port: 3000` or `port: https:3000`.
func (d *decoder) port(scope string, f yamlnode.Pair) ServicePort {
	v, err := yamlnode.String(f.Value)
	if err != nil {
		d.Field(scope, f, err)
		return ServicePort{}
	}
	p := ServicePort{Scheme: "http"}
	num := v
	if scheme, rest, ok := strings.Cut(v, ":"); ok {
		p.Scheme, num = scheme, rest
	}
	n, err := strconv.Atoi(num)
	if (p.Scheme != "http" && p.Scheme != "https") || err != nil || n < 1 || n > 65535 {
		d.Add(scope, f.Line, "port: must be a number from 1 to 65535, optionally after http: or https:, got %q", v)
		return ServicePort{}
	}
	p.Port = n
	return p
}

// scale reads `scale: 2`, `scale: 1-3` or `scale: {count, cpu, memory}`.
func (d *decoder) scale(scope string, f yamlnode.Pair) ServiceScale {
	var s ServiceScale
	n := yamlnode.Resolve(f.Value)
	if n == nil || n.Kind != yaml.MappingNode {
		s.Min, s.Max = d.count(scope, f)
		return s
	}
	for _, g := range d.Pairs(scope+": scale", n) {
		switch g.Key {
		case "count":
			s.Min, s.Max = d.count(scope+": scale", g)
		case "cpu":
			s.Cpu = d.natural(scope+": scale", g)
		case "memory":
			s.Memory = d.natural(scope+": scale", g)
		default:
			d.Unknown(scope+": scale", g, scaleFields)
		}
	}
	return s
}

// count reads a fixed count "2" or a range "1-3".
func (d *decoder) count(scope string, f yamlnode.Pair) (int, int) {
	v, err := yamlnode.String(f.Value)
	if err == nil {
		lo, hi, isRange := strings.Cut(v, "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA == nil && errB == nil && a >= 0 && a <= b {
			return a, b
		}
	}
	d.Add(scope, f.Line, "%s: must be a count like 2 or a range like 1-3, got %s", f.Key, yamlnode.Describe(f.Value))
	return 0, 0
}

func (d *decoder) resource(p yamlnode.Pair) Resource {
	r := Resource{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("resource %q", p.Key)
	for _, f := range d.Pairs(scope, p.Value) {
		switch f.Key {
		case "type":
			r.Type = d.Text(scope, f)
		case "options":
			for _, o := range d.Pairs(scope+": options", f.Value) {
				if r.Options == nil {
					r.Options = map[string]string{}
				}
				r.Options[o.Key] = d.Text(scope+": options", o)
			}
		default:
			d.Unknown(scope, f, resourceFields)
		}
	}
	return r
}

func (d *decoder) timer(p yamlnode.Pair) Timer {
	t := Timer{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("timer %q", p.Key)
	for _, f := range d.Pairs(scope, p.Value) {
		switch f.Key {
		case "command":
			t.Command = d.Text(scope, f)
		case "schedule":
			t.Schedule = d.Text(scope, f)
		case "service":
			t.Service = d.Text(scope, f)
		default:
			d.Unknown(scope, f, timerFields)
		}
	}
	return t
}
