package testenv

import (
	_ "embed"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"
)

// motoLauncher patches moto where aws-sdk-go-v2 cannot decode its answers, then serves.
//
//go:embed moto_launcher.py
var motoLauncher []byte

// Moto is a running moto_server on loopback, fresh for one test.
type Moto struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:40123.
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
	log      string
}

// StartMoto starts a patched moto_server on a free loopback port and stops it at t.Cleanup.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	python := motoPython(t)
	dir := t.TempDir()
	launcher := filepath.Join(dir, "moto_launcher.py")
	require.NoError(t, os.WriteFile(launcher, motoLauncher, 0o644))
	var lastErr error
	// A port that was free a moment ago may be taken by the time moto binds it: retry.
	for attempt := 0; attempt < 3; attempt++ {
		m, err := launchMoto(python, launcher, filepath.Join(dir, fmt.Sprintf("moto-%d.log", attempt)), FreePort(t))
		if err == nil {
			t.Cleanup(m.Stop)
			return m
		}
		lastErr = err
	}
	require.Fail(t, fmt.Sprintf("starting moto_server: %v", lastErr))
	return nil
}

// launchMoto runs the launcher on port and waits until the server answers HTTP.
func launchMoto(python, launcher, logPath string, port int) (*Moto, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	m := &Moto{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		exited:   make(chan struct{}),
		log:      logPath,
	}
	m.cmd = exec.Command(python, launcher, fmt.Sprint(port))
	m.cmd.Stdout = logFile
	m.cmd.Stderr = logFile
	// Its own process group, so Stop ends the server and nothing else.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", python, err)
	}
	go func() { m.cmd.Wait(); close(m.exited) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		// Only moto's own answer counts: another server that took the port
		// after moto failed to bind it answers too, with a 404.
		if resp, err := client.Get(m.Endpoint + "/moto-api/data.json"); err == nil {
			resp.Body.Close()
			select {
			case <-m.exited:
			default:
				if resp.StatusCode == http.StatusOK {
					return m, nil
				}
			}
		}
		select {
		case <-m.exited:
			return nil, fmt.Errorf("moto_server exited at start: %s", m.Logs())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("moto_server did not answer within 60s: %s", m.Logs())
		}
	}
}

// Stop ends the server (SIGTERM, then SIGKILL to its process group).
func (m *Moto) Stop() {
	stopProcess(m.cmd, m.exited, 10*time.Second)
}

// Logs is the server's output so far, for failure messages.
func (m *Moto) Logs() string {
	data, _ := os.ReadFile(m.log)
	const max = 4000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

// AWSConfig is an SDK config that talks to this server with static test credentials.
func (m *Moto) AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(m.Endpoint),
		HTTPClient:   &http.Client{Timeout: 60 * time.Second},
	}
}

// motoPython finds a Python interpreter that imports moto: moto_server's own, else python3.
func motoPython(t testing.TB) string {
	t.Helper()
	server := Tool(t, "moto_server")
	var candidates []string
	if out, err := exec.Command("pyenv", "which", "moto_server").Output(); err == nil {
		// A pyenv shim is a shell script; pyenv names the real one.
		server = strings.TrimSpace(string(out))
	}
	if python := shebang(server); python != "" {
		candidates = append(candidates, python)
	}
	if python, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, python)
	}
	for _, python := range candidates {
		if exec.Command(python, "-c", "import moto.server").Run() == nil {
			return python
		}
	}
	Missing(t, "a python3 that imports moto (tried %s)", strings.Join(candidates, ", "))
	return ""
}

// shebang is the interpreter a script names on its first line, if it is a Python one.
func shebang(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(data), "#!") {
		return ""
	}
	line, _, _ := strings.Cut(string(data[2:]), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 || !strings.Contains(filepath.Base(fields[0]), "python") {
		return ""
	}
	return fields[0]
}
