package local

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/provider/aws/formation"
	"github.com/convox/rack/provider/local/builder"
)

// TestFargateRunnerIsTheTemplatesTask: the local fargate runner starts the
// build as the template's fargate build task definition would. Its
// environment is the image's ENV, then the container definition's
// Environment, then the RunTask overrides (the build-task contract), and
// nothing else; its capabilities are the default set plus what the task
// definition adds; its config has no bind mount.
func TestFargateRunnerIsTheTemplatesTask(t *testing.T) {
	p := newRack(t, t.TempDir(), nil)
	for _, cache := range []string{"No", "Yes"} {
		t.Run("BuildCache="+cache, func(t *testing.T) {
			ps := map[string]string{"BuildMethod": "fargate", "BuildCache": cache, "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "7"}
			task, err := p.builds.fargateTask(ps)
			require.NoError(t, err)
			spec, err := p.taskSpec(&structs.App{Name: "web", Generation: "2"}, "B1", "object://web/k", structs.BuildCreateOptions{}, ps)
			require.NoError(t, err)
			c, err := task.Spec(builder.Task{ID: "B1", Env: spec.Environ(), Args: spec.Args()})
			require.NoError(t, err)

			// the template, read here on its own
			r, err := formation.Resolve(formation.Stack{Name: p.opts.Name, Params: map[string]string{"ImageRegistry": "local", "Password": "local",
				"BuildMethod": "fargate", "BuildCache": cache, "BuildCacheCleanup": "Yes", "BuildCacheRetentionDays": "7"}})
			require.NoError(t, err)
			def := r.Resources["BuildTaskDefinitionFargate"].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)
			want := map[string]string{}
			for _, kv := range builder.FargateImageEnv {
				k, v, _ := strings.Cut(kv, "=")
				want[k] = v
			}
			for _, item := range def["Environment"].([]any) {
				kv := item.(map[string]any)
				if v, ok := kv["Value"].(string); ok {
					want[kv["Name"].(string)] = v
				}
			}
			maps.Copy(want, envMap(spec.Environ()))
			assert.Equal(t, want, envMap(c.Env), "the runner's environment is not the task definition's")
			assert.Len(t, c.Env, len(want), "a variable appears twice")
			assert.Equal(t, "168h", envMap(c.Env)["BUILD_CACHE_TTL"], "7 days of retention")
			assert.NotContains(t, envMap(c.Env), "TMPDIR")

			var added []string
			if lp, ok := def["LinuxParameters"].(map[string]any); ok {
				for _, c := range lp["Capabilities"].(map[string]any)["Add"].([]any) {
					added = append(added, "CAP_"+c.(string))
				}
			}
			assert.ElementsMatch(t, append([]string{"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
				"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID",
				"CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}, added...), c.Caps)
			assert.Nil(t, def["Privileged"])
			assert.Nil(t, def["MountPoints"])
			assert.Equal(t, append([]string{builder.ContainerBuild}, spec.Args()...), c.Args)
			assert.Equal(t, builder.FargateWorkingDir, c.Cwd)
		})
	}

	// what the runner gives runc: no bind mount, the spec's process
	runc := testenv.Tool(t, "runc")
	bundle := t.TempDir()
	out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput()
	require.NoError(t, err, string(out))
	task, err := p.builds.fargateTask(map[string]string{"BuildMethod": "fargate"})
	require.NoError(t, err)
	c, err := task.Spec(builder.Task{ID: "B1", Env: []string{"BUILD_APP=web"}})
	require.NoError(t, err)
	require.NoError(t, builder.PatchSpec(filepath.Join(bundle, "config.json"), c))
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	require.NoError(t, err)
	var oci struct {
		Process struct {
			Env          []string
			Capabilities map[string][]string
		}
		Mounts []struct{ Type, Source, Destination string }
	}
	require.NoError(t, json.Unmarshal(data, &oci))
	assert.Equal(t, c.Env, oci.Process.Env)
	assert.Equal(t, c.Caps, oci.Process.Capabilities["bounding"])
	for _, m := range oci.Mounts {
		assert.NotEqual(t, "bind", m.Type, "bind mount %s -> %s", m.Source, m.Destination)
	}
}

// TestFargateRunnerRefusesWhatFargateWould: a capability Fargate does not
// allow, or a contract value the deployment leaves out, fails the build task.
func TestFargateRunnerRefusesWhatFargateWould(t *testing.T) {
	_, err := builder.FargateTask{CapAdd: []string{"SYS_ADMIN"}}.Spec(builder.Task{})
	assert.ErrorContains(t, err, "Fargate allows only SYS_PTRACE")
	c, err := builder.FargateTask{CapAdd: []string{"SYS_PTRACE"}}.Spec(builder.Task{})
	require.NoError(t, err)
	assert.Contains(t, c.Caps, "CAP_SYS_PTRACE")
	_, err = builder.FargateTask{Deployed: []string{"BUILD_CACHE_REPO"}}.Spec(builder.Task{})
	assert.ErrorContains(t, err, "BUILD_CACHE_REPO")
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
