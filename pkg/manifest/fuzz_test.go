package manifest

import (
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/convox/rack/internal/manifestfixtures"
	"github.com/convox/rack/pkg/manifest/yamlnode"
)

// FuzzLoad checks Load never panics, explains every refusal, and only
// accepts manifests whose names and build paths are safe to use.
func FuzzLoad(f *testing.F) {
	manifestfixtures.Seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, "convox.yml")
		if err != nil {
			if m != nil {
				t.Fatal("Load returned a manifest with an error")
			}
			if !strings.HasPrefix(err.Error(), "convox.yml: ") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		if len(m.Services) == 0 {
			t.Fatal("accepted a manifest without services")
		}
		if !sort.SliceIsSorted(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name }) {
			t.Fatal("services are not sorted")
		}
		for _, s := range m.Services {
			if !nameRE.MatchString(s.Name) {
				t.Fatalf("accepted service name %q", s.Name)
			}
			if s.Built() == (s.Image != "") {
				t.Fatalf("service %q must be either built or pulled: %+v", s.Name, s)
			}
			if !s.Built() {
				continue
			}
			df := path.Join(s.Build.Path, s.Build.Manifest)
			if strings.HasPrefix(df, "/") || yamlnode.Escapes(df) || yamlnode.Escapes(s.Build.Path) || strings.HasPrefix(s.Build.Path, "/") {
				t.Fatalf("service %q escapes the source: path %q, Dockerfile %q", s.Name, s.Build.Path, df)
			}
			if path.Base(df) == "." || df == "" {
				t.Fatalf("service %q has no Dockerfile: %q", s.Name, df)
			}
		}
	})
}
