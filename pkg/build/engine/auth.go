package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Login is one registry's credentials, as BUILD_AUTH carries them.
type Login struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ParseAuth reads BUILD_AUTH: {"host":{"username":..,"password":..}}; "" is no logins.
func ParseAuth(s string) (map[string]Login, error) {
	logins := map[string]Login{}
	if strings.TrimSpace(s) == "" {
		return logins, nil
	}
	if err := json.Unmarshal([]byte(s), &logins); err != nil {
		// never echo the value: it holds passwords
		return nil, fmt.Errorf("BUILD_AUTH is not a JSON object of host to username/password")
	}
	return logins, nil
}

// writeDockerConfig writes dir/config.json with logins merged over the
// auths of an existing config file (base may be "").
func writeDockerConfig(dir, base string, logins map[string]Login) error {
	cfg := map[string]any{}
	if base != "" {
		if data, err := os.ReadFile(filepath.Join(base, "config.json")); err == nil {
			_ = json.Unmarshal(data, &cfg)
		}
	}
	auths, _ := cfg["auths"].(map[string]any)
	if auths == nil {
		auths = map[string]any{}
	}
	for host, l := range logins {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(l.Username + ":" + l.Password))}
	}
	cfg["auths"] = auths
	// a credential helper of the host config would shadow the logins above
	delete(cfg, "credsStore")
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600)
}

// RefHost is the registry host of an image reference ("" for Docker Hub names).
func RefHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return ""
	}
	return first
}

// IsLoopback reports whether a registry host is on the loopback interface,
// which engines are allowed to reach over plain http.
func IsLoopback(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loopbackHosts are the distinct loopback registry hosts among refs.
func loopbackHosts(refs ...string) []string {
	seen := map[string]bool{}
	var hosts []string
	for _, r := range refs {
		h := RefHost(r)
		if h == "" && strings.Contains(r, ":") && !strings.Contains(r, "/") {
			h = r // a bare host:port
		}
		if h != "" && IsLoopback(h) && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}
