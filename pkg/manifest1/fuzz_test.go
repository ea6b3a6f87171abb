package manifest1

import (
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/convox/rack/internal/manifestfixtures"
	"github.com/convox/rack/pkg/manifest/yamlnode"
)

// FuzzLoad checks Load never panics, explains every refusal, and only
// accepts files whose names and build paths are safe to use.
func FuzzLoad(f *testing.F) {
	manifestfixtures.Seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, "docker-compose.yml")
		if err != nil {
			if m != nil {
				t.Fatal("Load returned a manifest with an error")
			}
			if !strings.HasPrefix(err.Error(), "docker-compose.yml: ") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		if len(m.Services) == 0 {
			t.Fatal("accepted a file without services")
		}
		if !sort.SliceIsSorted(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name }) {
			t.Fatal("services are not sorted")
		}
		for _, s := range m.Services {
			if !nameRE.MatchString(s.Name) {
				t.Fatalf("accepted service name %q", s.Name)
			}
			if !s.Built() {
				if s.Image == "" {
					t.Fatalf("service %q is neither built nor pulled", s.Name)
				}
				continue
			}
			df := path.Join(s.Build.Context, s.Build.Dockerfile)
			if strings.HasPrefix(df, "/") || yamlnode.Escapes(df) || yamlnode.Escapes(s.Build.Context) || strings.HasPrefix(s.Build.Context, "/") {
				t.Fatalf("service %q escapes the source: context %q, Dockerfile %q", s.Name, s.Build.Context, df)
			}
			if path.Base(df) == "." || df == "" {
				t.Fatalf("service %q has no Dockerfile: %q", s.Name, df)
			}
			for _, p := range s.Ports {
				if p.Container < 1 || p.Container > 65535 || p.Host < 0 || p.Host > 65535 {
					t.Fatalf("service %q accepted port %+v", s.Name, p)
				}
			}
		}
	})
}
