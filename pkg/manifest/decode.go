package manifest

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/convox/rack/pkg/manifest/yamlnode"
	"gopkg.in/yaml.v3"
)

// decoder walks the YAML nodes of one file and collects every problem.
type decoder struct {
	yamlnode.Problems
}

func (d *decoder) manifest(top *yaml.Node) *Manifest {
	m := &Manifest{}
	d.Walk("", yamlnode.WithoutExtensions(d.Pairs("", top)), yamlnode.Fields{
		"environment": func(p yamlnode.Pair) { m.Environment = d.strings("environment", p) },
		"resources":   func(p yamlnode.Pair) { m.Resources = yamlnode.Each(&d.Problems, "resources", p.Value, d.resource) },
		"services":    func(p yamlnode.Pair) { m.Services = yamlnode.Each(&d.Problems, "services", p.Value, d.service) },
		"timers":      func(p yamlnode.Pair) { m.Timers = yamlnode.Each(&d.Problems, "timers", p.Value, d.timer) },
	})
	return m
}

func (d *decoder) service(p yamlnode.Pair) Service {
	s := Service{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("service %q", p.Key)
	var hasBuild bool
	d.Mapping(scope, p.Value, yamlnode.Fields{
		"build":   func(f yamlnode.Pair) { hasBuild, s.Build = true, d.build(scope, f) },
		"command": d.TextInto(scope, &s.Command),
		"domain": func(f yamlnode.Pair) {
			v, err := yamlnode.StringOrStrings(f.Value)
			d.Field(scope, f, err)
			s.Domains = v
		},
		"environment": func(f yamlnode.Pair) { s.Environment = d.strings(scope+": environment", f) },
		"health":      func(f yamlnode.Pair) { s.Health = d.health(scope, f) },
		"image":       d.TextInto(scope, &s.Image),
		"internal":    d.BoolInto(scope, &s.Internal),
		"port":        func(f yamlnode.Pair) { s.Port = d.port(scope, f) },
		"resources":   func(f yamlnode.Pair) { s.Resources = d.strings(scope+": resources", f) },
		"scale":       func(f yamlnode.Pair) { s.Scale = d.scale(scope, f) },
		"test":        d.TextInto(scope, &s.Test),
	})
	switch {
	case hasBuild && s.Image != "":
		d.Add(scope, yamlnode.Line(p.Value), "has both build and image; use build to build from source or image to pull")
		s.Image = ""
	case !hasBuild && s.Image == "":
		s.Build = ServiceBuild{Path: DefaultBuildPath, Manifest: DefaultDockerfile}
	}
	return s
}

// natural reads a whole number of 0 or more (seconds, CPU units, MiB) into dst.
func (d *decoder) natural(scope string, dst *int) func(yamlnode.Pair) {
	return func(f yamlnode.Pair) {
		v, err := yamlnode.Int(f.Value)
		if err != nil || v < 0 {
			d.Add(scope, f.Line, "%s: must be a whole number of 0 or more, got %s", f.Key, yamlnode.Describe(f.Value))
			v = 0
		}
		*dst = v
	}
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
	fields := yamlnode.Fields{
		"args":     func(g yamlnode.Pair) { b.Args = d.strings(scope+": build: args", g) },
		"manifest": d.TextInto(scope+": build", &b.Manifest),
		"path":     d.TextInto(scope+": build", &b.Path),
	}
	if yamlnode.IsMapping(f.Value) {
		d.Mapping(scope+": build", f.Value, fields)
	} else if v, err := yamlnode.String(f.Value); err != nil {
		d.Add(scope, f.Line, "build: must be a path or a mapping of %s, got %s", strings.Join(fields.Names(), ", "), yamlnode.Describe(f.Value))
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
	if !yamlnode.IsMapping(f.Value) {
		h.Path = d.Text(scope, f)
		return h
	}
	d.Mapping(scope+": health", f.Value, yamlnode.Fields{
		"grace":    d.natural(scope+": health", &h.Grace),
		"interval": d.natural(scope+": health", &h.Interval),
		"path":     d.TextInto(scope+": health", &h.Path),
		"timeout":  d.natural(scope+": health", &h.Timeout),
	})
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
	if !yamlnode.IsMapping(f.Value) {
		s.Min, s.Max = d.count(scope, f)
		return s
	}
	d.Mapping(scope+": scale", f.Value, yamlnode.Fields{
		"count":  func(g yamlnode.Pair) { s.Min, s.Max = d.count(scope+": scale", g) },
		"cpu":    d.natural(scope+": scale", &s.Cpu),
		"memory": d.natural(scope+": scale", &s.Memory),
	})
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
	d.Mapping(scope, p.Value, yamlnode.Fields{
		"options": func(f yamlnode.Pair) {
			for _, o := range d.Pairs(scope+": options", f.Value) {
				if r.Options == nil {
					r.Options = map[string]string{}
				}
				r.Options[o.Key] = d.Text(scope+": options", o)
			}
		},
		"type": d.TextInto(scope, &r.Type),
	})
	return r
}

func (d *decoder) timer(p yamlnode.Pair) Timer {
	t := Timer{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("timer %q", p.Key)
	d.Mapping(scope, p.Value, yamlnode.Fields{
		"command":  d.TextInto(scope, &t.Command),
		"schedule": d.TextInto(scope, &t.Schedule),
		"service":  d.TextInto(scope, &t.Service),
	})
	return t
}
