package manifest1

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/convox/rack/pkg/manifest/yamlnode"
	"gopkg.in/yaml.v3"
)

// versionRE matches the compose file versions generation 1 supports.
var versionRE = regexp.MustCompile(`^2(\.[0-9])?$`)

// decoder walks the YAML nodes of one file and collects every problem.
type decoder struct {
	yamlnode.Problems
}

// manifest reads the version 2 layout (version, services) or, without a
// version and a services key, the version 1 layout of services at the top.
func (d *decoder) manifest(top *yaml.Node) *Manifest {
	m := &Manifest{}
	pairs := yamlnode.WithoutExtensions(d.Pairs("", top)) // x- keys hold YAML anchors
	v2 := false
	for _, p := range pairs {
		v2 = v2 || p.Key == "version" || p.Key == "services"
	}
	if !v2 {
		for _, p := range pairs {
			m.Services = append(m.Services, d.service(p))
		}
		if len(m.Services) == 0 && d.Len() == 0 {
			d.Add("", 0, "has no services; define at least one")
		}
		return m
	}
	d.Walk("", pairs, yamlnode.Fields{
		"services": func(p yamlnode.Pair) { m.Services = yamlnode.Each(&d.Problems, "services", p.Value, d.service) },
		"version": func(p yamlnode.Pair) {
			v, err := yamlnode.String(p.Value)
			if err != nil || !versionRE.MatchString(v) {
				d.Add("", p.Line, "version %s is not supported; use \"2\" (or 2.0 to 2.9) or leave version out", yamlnode.Describe(p.Value))
			}
			m.Version = v
		},
	})
	if len(m.Services) == 0 && d.Len() == 0 {
		d.Add("", 0, "has no services; define at least one under services")
	}
	return m
}

func (d *decoder) service(p yamlnode.Pair) Service {
	s := Service{Name: p.Key, line: p.Line}
	scope := fmt.Sprintf("service %q", p.Key)
	var dockerfile string
	hasBuild := false
	d.Mapping(scope, p.Value, yamlnode.Fields{
		"build":       func(f yamlnode.Pair) { hasBuild, s.Build = true, d.build(scope, f) },
		"command":     func(f yamlnode.Pair) { s.Command = d.command(scope, f) },
		"dockerfile":  d.TextInto(scope, &dockerfile),
		"entrypoint":  func(f yamlnode.Pair) { s.Entrypoint = d.command(scope, f) },
		"environment": func(f yamlnode.Pair) { s.Environment = d.keyValues(scope, f) },
		"image":       d.TextInto(scope, &s.Image),
		"labels": func(f yamlnode.Pair) {
			s.Labels = map[string]string{}
			for _, kv := range d.keyValues(scope, f) {
				k, v, _ := strings.Cut(kv, "=")
				s.Labels[k] = v
			}
		},
		"links":      func(f yamlnode.Pair) { s.Links = d.strings(scope, f) },
		"mem_limit":  d.TextInto(scope, &s.MemLimit),
		"ports":      func(f yamlnode.Pair) { s.Ports = d.ports(scope, f) },
		"privileged": d.BoolInto(scope, &s.Privileged),
		"volumes":    func(f yamlnode.Pair) { s.Volumes = d.strings(scope, f) },
	})
	switch {
	case dockerfile != "" && s.Build.Dockerfile != "":
		d.Add(scope, s.line, "dockerfile is set both on the service and under build; keep one")
	case dockerfile != "" && !hasBuild:
		s.Build = Build{Context: ".", Dockerfile: dockerfile}
	case dockerfile != "":
		s.Build.Dockerfile = dockerfile
	case !hasBuild && s.Image == "":
		d.Add(scope, s.line, "needs build or image")
	}
	if hasBuild && s.Build.Dockerfile == "" {
		s.Build.Dockerfile = DefaultDockerfile
	}
	return s
}

func (d *decoder) strings(scope string, f yamlnode.Pair) []string {
	v, err := yamlnode.Strings(f.Value)
	d.Field(scope, f, err)
	return v
}

// build reads `build: context` or `build: {context, dockerfile, args}`.
func (d *decoder) build(scope string, f yamlnode.Pair) Build {
	var b Build
	fields := yamlnode.Fields{
		"args":       func(g yamlnode.Pair) { b.Args = d.keyValues(scope+": build", g) },
		"context":    d.TextInto(scope+": build", &b.Context),
		"dockerfile": d.TextInto(scope+": build", &b.Dockerfile),
	}
	n := yamlnode.Resolve(f.Value)
	switch {
	case yamlnode.IsMapping(n):
		d.Mapping(scope+": build", n, fields)
	case n != nil && n.Kind == yaml.ScalarNode:
		b.Context = n.Value
	default:
		d.Add(scope, f.Line, "build: must be a path or a mapping of %s, got %s", strings.Join(fields.Names(), ", "), yamlnode.Describe(f.Value))
	}
	if strings.Contains(b.Context, "://") {
		d.Add(scope, f.Line, "build: context: %q must be a directory of the source, not a URL", b.Context)
	}
	b.Context = path.Clean(b.Context) // "" becomes "."
	return b
}

// command reads a shell string or an exec list.
func (d *decoder) command(scope string, f yamlnode.Pair) Command {
	n := yamlnode.Resolve(f.Value)
	if n != nil && n.Kind == yaml.SequenceNode {
		v, err := yamlnode.Strings(n)
		d.Field(scope, f, err)
		return Command{Exec: v}
	}
	v, err := yamlnode.String(n)
	if err != nil {
		d.Add(scope, f.Line, "%s: must be text or a list of text, got %s", f.Key, yamlnode.Describe(n))
	}
	return Command{Shell: v}
}

// keyValues reads a list of NAME or NAME=value entries or a mapping of them;
// a mapping entry without a value becomes NAME.
func (d *decoder) keyValues(scope string, f yamlnode.Pair) []string {
	n := yamlnode.Resolve(f.Value)
	if n == nil || n.Kind != yaml.MappingNode {
		v, err := yamlnode.Strings(n)
		if err != nil {
			d.Add(scope, f.Line, "%s: must be a list of NAME=value or a mapping, got %s", f.Key, yamlnode.Describe(n))
		}
		return v
	}
	var out []string
	for _, kv := range d.Pairs(scope+": "+f.Key, n) {
		if yamlnode.IsNull(kv.Value) {
			out = append(out, kv.Key)
			continue
		}
		v, err := yamlnode.String(kv.Value)
		if err != nil {
			d.Add(scope+": "+f.Key, kv.Line, "%s: %v", kv.Key, err)
		}
		out = append(out, kv.Key+"="+v)
	}
	return out
}

// ports reads `- 80`, `- "80:3000"` or `- "53:53/udp"` entries.
func (d *decoder) ports(scope string, f yamlnode.Pair) []Port {
	items, err := yamlnode.Strings(f.Value)
	if err != nil {
		d.Field(scope, f, err)
		return nil
	}
	var out []Port
	for _, it := range items {
		p, ok := parsePort(it)
		if !ok {
			d.Add(scope, f.Line, "ports: %q must be CONTAINER or HOST:CONTAINER with ports from 1 to 65535, optionally followed by /tcp or /udp", it)
			continue
		}
		out = append(out, p)
	}
	return out
}

func parsePort(s string) (Port, bool) {
	p := Port{Protocol: "tcp"}
	if rest, proto, ok := strings.Cut(s, "/"); ok {
		if proto != "tcp" && proto != "udp" {
			return Port{}, false
		}
		s, p.Protocol = rest, proto
	}
	host, container, published := strings.Cut(s, ":")
	if !published {
		host, container = "", host
	}
	var ok bool
	if p.Container, ok = portNumber(container); !ok {
		return Port{}, false
	}
	if published {
		if p.Host, ok = portNumber(host); !ok {
			return Port{}, false
		}
	}
	return p, true
}

func portNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535 && !strings.HasPrefix(s, "+")
}
