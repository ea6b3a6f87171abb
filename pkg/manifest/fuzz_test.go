package manifest

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
// accepts manifests whose names and build paths are safe to use.
func FuzzLoad(f *testing.F) {
	manifestfixtures.Seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, "convox.yml")
		if err != nil {
			require.Nil(t, m, "Load returned a manifest with an error")
			require.True(t, strings.HasPrefix(err.Error(), "convox.yml: "), "error does not name the file: %q", err)
			return
		}
		require.NotEmpty(t, m.Services, "accepted a manifest without services")
		require.True(t, sort.SliceIsSorted(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name }), "services are not sorted")
		for _, s := range m.Services {
			require.True(t, nameRE.MatchString(s.Name), "accepted service name %q", s.Name)
			require.False(t, s.Built() == (s.Image != ""), "service %q must be either built or pulled: %+v", s.Name, s)
			if !s.Built() {
				continue
			}
			df := path.Join(s.Build.Path, s.Build.Manifest)
			require.False(t, strings.HasPrefix(df, "/"), "service %q escapes the source: path %q, Dockerfile %q", s.Name, s.Build.Path, df)
			require.False(t, yamlnode.Escapes(df), "service %q escapes the source: path %q, Dockerfile %q", s.Name, s.Build.Path, df)
			require.False(t, yamlnode.Escapes(s.Build.Path), "service %q escapes the source: path %q, Dockerfile %q", s.Name, s.Build.Path, df)
			require.False(t, strings.HasPrefix(s.Build.Path, "/"), "service %q escapes the source: path %q, Dockerfile %q", s.Name, s.Build.Path, df)
			require.NotEqual(t, ".", path.Base(df), "service %q has no Dockerfile: %q", s.Name, df)
			require.NotEmpty(t, df, "service %q has no Dockerfile: %q", s.Name, df)
		}
	})
}
