package params

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// edgeValues are tried against every parameter; want lists the accepted ones.
var edgeValues = []string{"0", "1", "365", "366", "abc", "yes", "Yes", "No", ""}

func TestCheckEveryParameter(t *testing.T) {
	want := map[string][]string{
		"BuildCache":              {"Yes", "No"},
		"BuildCacheCleanup":       {"Yes", "No"},
		"BuildCacheRetentionDays": {"1", "365"},
		"BuildMethod":             {},
		"BuildImage":              edgeValues,
		"BuildCpu":                {"0", "1", "365", "366"},
		"BuildMemory":             {"365", "366"},
		"FargateBuildCpu":         {},
		"FargateBuildMemory":      {},
		"BuildEphemeral":          {"Yes", "No"},
		"Password":                edgeValues,
		"ImageRegistry":           edgeValues,
		"CertificateArn":          edgeValues,
		"RackHostname":            edgeValues,
	}
	for _, p := range All() {
		accepted, ok := want[p.Name]
		if !ok {
			t.Errorf("parameter %s has no expectations in this test", p.Name)
			continue
		}
		for _, v := range edgeValues {
			err := p.Check(v)
			if got, wantOK := err == nil, contains(accepted, v); got != wantOK {
				t.Errorf("%s.Check(%q) = %v, want accepted=%v", p.Name, v, err, wantOK)
			}
			if err != nil && !strings.Contains(err.Error(), p.Name) {
				t.Errorf("%s.Check(%q) error %q does not name the parameter", p.Name, v, err)
			}
		}
	}
	for name := range want {
		if _, ok := Lookup(name); !ok {
			t.Errorf("expected parameter %s is missing from the catalogue", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestCheckSpecificValues(t *testing.T) {
	tests := []struct {
		name, value string
		err         string // "" means accepted
	}{
		{"BuildCacheRetentionDays", "0", `BuildCacheRetentionDays must be a whole number from 1 to 365, got "0"`},
		{"BuildCacheRetentionDays", "30", ""},
		{"BuildCacheRetentionDays", "1.5", `got "1.5"`},
		{"BuildCacheRetentionDays", " 1", `got " 1"`},
		{"BuildCacheRetentionDays", "1 ", `got "1 "`},
		{"BuildCacheRetentionDays", "+1", `got "+1"`},
		{"BuildCacheRetentionDays", "-1", `got "-1"`},
		{"BuildCacheRetentionDays", "01", `got "01"`},
		{"BuildCacheRetentionDays", "1e2", `got "1e2"`},
		{"BuildCacheRetentionDays", "99999999999999999999", `from 1 to 365`},
		{"BuildCacheRetentionDays", "", `got ""`},
		{"BuildCache", "maybe", `BuildCache must be one of Yes, No, got "maybe"`},
		{"BuildCache", "yes", `BuildCache must be one of Yes, No, got "yes"`},
		{"BuildCache", "YES", `got "YES"`},
		{"BuildCache", "", `got ""`},
		{"BuildMethod", "ec2", ""},
		{"BuildMethod", "fargate", ""},
		{"BuildMethod", "EC2", `BuildMethod must be one of ec2, fargate, got "EC2"`},
		{"BuildCpu", "16384", ""},
		{"BuildCpu", "16385", `BuildCpu must be a whole number from 0 to 16384, got "16385"`},
		{"BuildMemory", "127", `from 128 to 122880`},
		{"BuildMemory", "128", ""},
		{"BuildMemory", "122880", ""},
		{"BuildMemory", "122881", `got "122881"`},
		{"FargateBuildCpu", "256", ""},
		{"FargateBuildCpu", "4096", ""},
		{"FargateBuildCpu", "300", `FargateBuildCpu must be one of 256, 512, 1024, 2048, 4096, got "300"`},
		{"FargateBuildMemory", "511", `from 512 to 30720`},
		{"FargateBuildMemory", "512", ""},
		{"FargateBuildMemory", "30720", ""},
		{"FargateBuildMemory", "30721", `got "30721"`},
		{"BuildImage", "", ""},
		{"BuildImage", "example/build:1", ""},
		{"Password", "s3cr=t&x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			p, ok := Lookup(tt.name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", tt.name)
			}
			err := p.Check(tt.value)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Check(%q) = %v, want nil", tt.value, err)
			case tt.err != "" && err == nil:
				t.Fatalf("Check(%q) = nil, want error containing %q", tt.value, tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Fatalf("Check(%q) = %q, want it to contain %q", tt.value, err, tt.err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		values   map[string]string
		problems []string
	}{
		{"nil map", nil, nil},
		{"defaults", Defaults(), nil},
		{"enable cache", map[string]string{"BuildCache": "Yes", "BuildCacheRetentionDays": "14"}, nil},
		{"unknown name", map[string]string{"Foo": "1"}, []string{`unknown parameter "Foo"`}},
		{"name is case-sensitive", map[string]string{"buildcache": "Yes"}, []string{`unknown parameter "buildcache"`}},
		{"every problem at once, sorted by name", map[string]string{
			"Foo":                     "x",
			"BuildCacheRetentionDays": "0",
			"BuildCache":              "maybe",
			"BuildMethod":             "ec2",
			"Abc":                     "",
		}, []string{
			`unknown parameter "Abc"`,
			`BuildCache must be one of Yes, No, got "maybe"`,
			`BuildCacheRetentionDays must be a whole number from 1 to 365, got "0"`,
			`unknown parameter "Foo"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.values)
			if tt.problems == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v (%T), want *ValidationError", err, err)
			}
			if !reflect.DeepEqual(ve.Problems, tt.problems) {
				t.Fatalf("problems:\n got %q\nwant %q", ve.Problems, tt.problems)
			}
			if want := strings.Join(tt.problems, "\n"); err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		if p.Name == "" || seen[p.Name] {
			t.Errorf("parameter name %q is empty or repeated", p.Name)
		}
		seen[p.Name] = true
		if p.Group == "" || p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("%s needs a group and a one-line description", p.Name)
		}
		if err := p.Check(p.Default); err != nil {
			t.Errorf("%s default is not allowed: %v", p.Name, err)
		}
		switch p.Kind {
		case KindEnum:
			if len(p.Allowed) == 0 {
				t.Errorf("%s is an enum with no allowed values", p.Name)
			}
		case KindInt:
			if p.Min > p.Max || p.Min < 0 {
				t.Errorf("%s has range %d..%d", p.Name, p.Min, p.Max)
			}
		}
	}
	if got := len(Defaults()); got != len(All()) {
		t.Errorf("Defaults has %d entries, All has %d", got, len(All()))
	}
}

func TestGroups(t *testing.T) {
	if got, want := Groups(), []string{GroupBuild, GroupRack}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Groups() = %q, want %q", got, want)
	}
	total := 0
	for _, g := range Groups() {
		ps := InGroup(g)
		if len(ps) == 0 {
			t.Errorf("group %s is empty", g)
		}
		for _, p := range ps {
			if p.Group != g {
				t.Errorf("InGroup(%s) returned %s of group %s", g, p.Name, p.Group)
			}
		}
		total += len(ps)
	}
	if total != len(All()) {
		t.Errorf("groups hold %d parameters, All has %d", total, len(All()))
	}
	if ps := InGroup("nope"); len(ps) != 0 {
		t.Errorf("InGroup(nope) = %v, want none", ps)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name                    string
		secret, template, local bool
	}{
		{"BuildCache", false, true, true},
		{"BuildCacheCleanup", false, true, true},
		{"BuildCacheRetentionDays", false, true, true},
		{"BuildEphemeral", false, false, true},
		{"Password", true, true, true},
	}
	for _, tt := range tests {
		p, _ := Lookup(tt.name)
		if p.Secret != tt.secret || p.Template != tt.template || p.Local != tt.local {
			t.Errorf("%s: secret=%v template=%v local=%v, want %v %v %v",
				tt.name, p.Secret, p.Template, p.Local, tt.secret, tt.template, tt.local)
		}
	}
}

func TestCallersCannotChangeTheCatalogue(t *testing.T) {
	p, _ := Lookup("BuildCache")
	p.Allowed[0] = "Maybe"
	all := All()
	all[1].Allowed[1] = "Never" // BuildCacheCleanup shares its value list
	if err := Validate(map[string]string{"BuildCache": "Yes", "BuildCacheCleanup": "No"}); err != nil {
		t.Fatalf("catalogue changed through a returned copy: %v", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindString: "string", KindEnum: "enum", KindInt: "int", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
