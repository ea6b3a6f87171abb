package manifest1

import (
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/convox/rack/internal/manifestfixtures"
	"github.com/convox/rack/pkg/manifest/yamlnode"

	"github.com/stretchr/testify/require"
)

// FuzzLoad checks Load never panics, explains every refusal, and only
// accepts files whose names and build paths are safe to use.
func FuzzLoad(f *testing.F) {
	manifestfixtures.Seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, "docker-compose.yml")
		if err != nil {
			require.Nil(t, m, "Load returned a manifest with an error")
			require.True(t, strings.HasPrefix(err.Error(), "docker-compose.yml: "), "error does not name the file: %q", err)
			return
		}
		require.NotEmpty(t, m.Services, "accepted a file without services")
		require.True(t, sort.SliceIsSorted(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name }), "services are not sorted")
		for _, s := range m.Services {
			require.True(t, nameRE.MatchString(s.Name), "accepted service name %q", s.Name)
			if !s.Built() {
				require.NotEmpty(t, s.Image, "service %q is neither built nor pulled", s.Name)
				continue
			}
			df := path.Join(s.Build.Context, s.Build.Dockerfile)
			require.False(t, strings.HasPrefix(df, "/"), "service %q escapes the source: context %q, Dockerfile %q", s.Name, s.Build.Context, df)
			require.False(t, yamlnode.Escapes(df), "service %q escapes the source: context %q, Dockerfile %q", s.Name, s.Build.Context, df)
			require.False(t, yamlnode.Escapes(s.Build.Context), "service %q escapes the source: context %q, Dockerfile %q", s.Name, s.Build.Context, df)
			require.False(t, strings.HasPrefix(s.Build.Context, "/"), "service %q escapes the source: context %q, Dockerfile %q", s.Name, s.Build.Context, df)
			require.NotEqual(t, ".", path.Base(df), "service %q has no Dockerfile: %q", s.Name, df)
			require.NotEmpty(t, df, "service %q has no Dockerfile: %q", s.Name, df)
			for _, p := range s.Ports {
				require.False(t, p.Container < 1, "service %q accepted port %+v", s.Name, p)
				require.False(t, p.Container > 65535, "service %q accepted port %+v", s.Name, p)
				require.False(t, p.Host < 0, "service %q accepted port %+v", s.Name, p)
				require.False(t, p.Host > 65535, "service %q accepted port %+v", s.Name, p)
			}
		}
	})
}
