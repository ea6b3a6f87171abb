package local

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/buildtask/buildtasktest"
	"github.com/convox/rack/pkg/structs"
)

// TestTaskSpecContract: every method × BuildCache × cleanup × generation
// reaches cmd/build, through the child's environment, as the contract says.
func TestTaskSpecContract(t *testing.T) {
	p := newRack(t, t.TempDir(), nil)
	for _, c := range buildtasktest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			a := &structs.App{Name: "web", Generation: c.Generation}
			opts := structs.BuildCreateOptions{NoCache: ptrTo(true), BuildArgs: []string{"A=1"}}
			spec, err := p.taskSpec(a, "B1", "object://web/k", opts, c.Params)
			require.NoError(t, err)
			buildtasktest.Check(t, c, spec)
			assert.Equal(t, p.registry.Host(), spec.Mirror)
			if spec.Cache {
				assert.Equal(t, p.registry.Host()+"/"+p.CacheRepo(), spec.CacheRepo)
			}
			// What the child process gets, parsed as cmd/build parses it.
			env := map[string]string{}
			for _, kv := range spec.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			parsed, err := buildtask.Parse(spec.Args(), func(k string) string { return env[k] })
			require.NoError(t, err)
			assert.Equal(t, spec, parsed)
			assert.True(t, parsed.NoCache)
		})
	}
	_, err := p.taskSpec(&structs.App{Name: "web", Generation: "3"}, "B1", "object://web/k", structs.BuildCreateOptions{}, map[string]string{})
	assert.ErrorContains(t, err, "generation must be 1 or 2")
}

func ptrTo[T any](v T) *T { return &v }
