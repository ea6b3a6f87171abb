package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// capsMemo remembers, in the host's DOCKER_CONFIG, that this host's engine
// refuses a --privileged builder container. Every later build on the host
// starts its builder with explicit capabilities at once, instead of paying for
// the refused attempt each time. A memo that does not parse is ignored.
type capsMemo struct {
	// dir is the host's DOCKER_CONFIG.
	dir string
	// kind names the builder image and config the answer belongs to.
	kind string
}

// capsRefused is what the memo holds.
type capsRefused struct {
	Privileged string `json:"privileged"`
}

func (m capsMemo) path() string {
	return filepath.Join(m.dir, "convox", "builder-caps-"+m.kind+".json")
}

// refused says this host's engine refused --privileged before.
func (m capsMemo) refused() bool {
	if m.dir == "" {
		return false
	}
	data, err := os.ReadFile(m.path())
	if err != nil {
		return false
	}
	var r capsRefused
	return json.Unmarshal(data, &r) == nil && r.Privileged == "refused"
}

// save remembers the refusal; a failure only means the next build learns it again.
func (m capsMemo) save() {
	if m.dir == "" {
		return
	}
	data, err := json.Marshal(capsRefused{Privileged: "refused"})
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
