package security

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convox/stdcli"

	"github.com/convox/rack/internal/testenv"
	"github.com/convox/rack/pkg/cli"
	"github.com/convox/rack/pkg/structs"
	"github.com/convox/rack/test/reliability/rackenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretsOf are the rack's secrets in every form they could leak in.
func secretsOf(t *testing.T, r *rackenv.Rack) map[string]string {
	regPass := r.RegistryPassword(t)
	auth, _ := json.Marshal(map[string]map[string]string{r.Registry(): {"username": "convox", "password": regPass}})
	return map[string]string{
		"rack password":            r.Password,
		"registry password":        regPass,
		"BUILD_AUTH":               string(auth),
		"registry basic auth":      base64.StdEncoding.EncodeToString([]byte("convox:" + regPass)),
		"rack basic auth":          base64.StdEncoding.EncodeToString([]byte("convox:" + r.Password)),
		"rack URL with password":   r.URL,
		"escaped registry passwd":  strings.ReplaceAll(string(auth), `"`, `\"`),
		"registry password quoted": `"` + regPass + `"`,
	}
}

// convox runs the CLI in process against the rack and returns stdout+stderr.
func convox(t *testing.T, r *rackenv.Rack, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.New("test")
	e.Writer.Stdout, e.Writer.Stderr, e.Writer.Color = &out, &errb, false
	e.Reader = &stdcli.Reader{Reader: strings.NewReader("")}
	e.Settings = t.TempDir()
	code := e.Execute(append(args, "--rack", r.URL))
	t.Logf("convox %s: exit %d", strings.Join(args, " "), code)
	return out.String() + errb.String()
}

// get is the raw JSON body of an API GET.
func get(t *testing.T, r *rackenv.Rack, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+r.Addr+path, nil)
	req.SetBasicAuth("convox", r.Password)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return string(data)
}

// TestSecretsNeverLeak runs real builds on a local rack with BuildCache=Yes,
// one complete and one failed, and looks for the rack password, the registry
// password and BUILD_AUTH in every place a user or log reader can see: build
// logs, build records, reasons, `convox builds`, `builds info`, `builds logs`,
// `rack`, the export archive, the API log and the rack's state on disk.
func TestSecretsNeverLeak(t *testing.T) {
	r := rackenv.Start(t, rackenv.Options{})
	err := r.Client.SystemUpdate(structs.SystemUpdateOptions{Parameters: map[string]string{"BuildCache": "Yes"}})
	require.NoError(t, err)
	_, err = r.Client.AppCreate("app1", structs.AppCreateOptions{})
	require.NoError(t, err)
	secrets := secretsOf(t, r)

	good, err := r.Client.BuildCreate("app1", r.Upload(t, "app1", rackenv.SmallApp(t, "secrets")), structs.BuildCreateOptions{})
	require.NoError(t, err)
	gb, glog := r.Wait(t, "app1", good.Id, 5*time.Minute)
	require.Equal(t, structs.BuildStatusComplete, gb.Status, "build %s: %s %s\n%s", gb.Id, gb.Status, gb.Reason, glog)
	noDockerfile := rackenv.App(t, map[string]string{"convox.yml": "services:\n  web:\n    build: .\n"})
	bad, err := r.Client.BuildCreate("app1", r.Upload(t, "app1", noDockerfile), structs.BuildCreateOptions{})
	require.NoError(t, err)
	bb, blog := r.Wait(t, "app1", bad.Id, 5*time.Minute)
	require.Equal(t, structs.BuildStatusFailed, bb.Status, "build without a Dockerfile: %s", bb.Status)

	seen := map[string]string{
		"logs of the complete build": glog,
		"logs of the failed build":   blog,
		"reason of the failed build": bb.Reason,
		"build record JSON":          get(t, r, "/apps/app1/builds/"+gb.Id),
		"failed build record JSON":   get(t, r, "/apps/app1/builds/"+bb.Id),
		"build list JSON":            get(t, r, "/apps/app1/builds"),
		"system JSON":                get(t, r, "/system"),
		"convox builds":              convox(t, r, "builds", "-a", "app1"),
		"convox builds info":         convox(t, r, "builds", "info", gb.Id, "-a", "app1"),
		"convox builds info failed":  convox(t, r, "builds", "info", bb.Id, "-a", "app1"),
		"convox builds logs":         convox(t, r, "builds", "logs", bb.Id, "-a", "app1"),
		"convox rack":                convox(t, r, "rack"),
		"convox rack params":         convox(t, r, "rack", "params"),
		"build.json of the export":   exportedBuildJSON(t, r, gb.Id),
	}
	for surface, text := range seen {
		assert.NotEmpty(t, text, "%s is empty: nothing was checked", surface)
		found := rackenv.Contains(text, secrets)
		assert.Empty(t, found, "%s leaks the %s", surface, strings.Join(found, ", "))
	}
	// the API log is checked last, after every request above
	assert.Empty(t, rackenv.Contains(r.Log(), secrets), "the API log leaks these")
	// state on disk: records and logs, not the registry's own secret file
	filepath.WalkDir(r.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isStateFile(r.Dir, path) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil {
			if found := rackenv.Contains(string(data), secrets); len(found) > 0 {
				rel, _ := filepath.Rel(r.Dir, path)
				assert.Fail(t, fmt.Sprintf("%s on disk leaks the %s", rel, strings.Join(found, ", ")))
			}
		}
		return nil
	})
}

// isStateFile is a record or log file of the rack (not registry blobs or the
// registry's own password file).
func isStateFile(root, path string) bool {
	rel, _ := filepath.Rel(root, path)
	return strings.HasPrefix(rel, "logs"+string(filepath.Separator)) || strings.HasSuffix(rel, ".db")
}

// exportedBuildJSON exports a build through the API and returns its build.json.
func exportedBuildJSON(t *testing.T, r *rackenv.Rack, id string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, r.Client.BuildExport("app1", id, &buf), "export")
	zr, err := gzip.NewReader(&buf)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		require.NoError(t, err, "export has no build.json")
		if hdr.Name == "build.json" {
			data, _ := io.ReadAll(tr)
			return string(data)
		}
	}
}

// TestBuildTaskErrorsHideSecrets runs cmd/build, as a provider starts it,
// against a rack that is not there or a RACK_URL that does not parse: its
// output names the problem and never the rack password or a registry
// password. (A broken BUILD_AUTH is checked in test/reliability, where a
// build gets far enough to read it.)
func TestBuildTaskErrorsHideSecrets(t *testing.T) {
	bin := testenv.BuildBinary(t)
	const rackPass, regPass = "rack-pw-4f1c2e9a", "reg-pw-77d0b3c1"
	dead := "127.0.0.1:" + itoa(testenv.FreePort(t))
	auth := `{"127.0.0.1:5000":{"username":"convox","password":"` + regPass + `"}}`
	base := []string{"BUILD_APP=app1", "BUILD_ID=B1", "BUILD_URL=object://app1/tmp/src.tgz", "BUILD_PUSH=127.0.0.1:5000/app1",
		"BUILD_METHOD=ec2", "BUILD_CACHE=true", "BUILD_CACHE_REPO=127.0.0.1:5000/rack1-build-cache", "BUILD_CACHE_TTL=30",
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cases := map[string][]string{
		"rack unreachable": {"RACK_URL=http://convox:" + rackPass + "@" + dead, "BUILD_AUTH=" + auth},
		"RACK_URL bad":     {"RACK_URL=http://convox:" + rackPass + "@[bad", "BUILD_AUTH=" + auth},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = append(append([]string{}, base...), env...)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				<-done
				require.Fail(t, fmt.Sprintf("build task still running after 2m:\n%s", out))
			}
			require.Error(t, err, "build task succeeded:\n%s", out)
			t.Logf("output: %s", bytes.TrimSpace(out))
			assert.NotEmpty(t, bytes.TrimSpace(out), "build task failed without a word")
			for _, s := range []string{rackPass, regPass} {
				assert.False(t, bytes.Contains(out, []byte(s)), "build task output leaks a password:\n%s", out)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
