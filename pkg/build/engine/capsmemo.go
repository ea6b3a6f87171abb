package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// capsMemo remembers, in the host's DOCKER_CONFIG, that this host's engine
// refuses the --privileged container buildx asks for, and the builder
// command buildx gave it. Every later build on the host starts its builder
// with explicit capabilities at once, instead of paying for the refused
// attempt (about a second) each time. A memo that does not parse is ignored.
type capsMemo struct {
	// dir is the host's DOCKER_CONFIG.
	dir string
	// kind names the builder image and config the command belongs to.
	kind string
}

func (m capsMemo) path() string {
	return filepath.Join(m.dir, "convox", "builder-caps-"+m.kind+".json")
}

// load is the remembered builder command, nil when this host has not refused.
func (m capsMemo) load() []string {
	if m.dir == "" {
		return nil
	}
	data, err := os.ReadFile(m.path())
	if err != nil {
		return nil
	}
	var cmd []string
	if json.Unmarshal(data, &cmd) != nil || len(cmd) == 0 {
		return nil
	}
	return cmd
}

// save remembers cmd; a failure only means the next build learns it again.
func (m capsMemo) save(cmd []string) {
	if m.dir == "" || len(cmd) == 0 {
		return
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(m.path()), 0o700) != nil {
		return
	}
	// concurrent builds may learn it together: write aside, rename into place
	tmp, err := os.CreateTemp(filepath.Dir(m.path()), ".caps-")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), m.path()) != nil {
		os.Remove(tmp.Name())
	}
}
