package builder

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// CleanRoot removes what a killed BuildKit daemon leaves under root: the runc
// containers of its build steps (still running, orphaned) and their mounts.
// BuildKit's runc executor keeps container state in runc's default root, so
// containers are found by their bundle, which lies under root.
func CleanRoot(runc, root string) {
	// stdout only: runc warns on stderr about a state directory it cannot
	// load (a container killed while being created) and still lists the rest
	if list, err := exec.Command(runc, "list", "--format", "json").Output(); err == nil {
		var containers []struct {
			ID     string `json:"id"`
			Bundle string `json:"bundle"`
		}
		_ = json.Unmarshal(list, &containers)
		prefix := filepath.Clean(root) + "/"
		for _, c := range containers {
			if strings.HasPrefix(c.Bundle, prefix) {
				_ = runCommand(context.Background(), io.Discard, nil, runc, "delete", "--force", c.ID)
			}
		}
	}
	for _, m := range mountsUnder(root) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// mountsUnder lists the mount points below root, deepest first.
func mountsUnder(root string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	root = filepath.Clean(root) + "/"
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		// mountinfo escapes spaces and the like as octal: \040
		mp := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(fields[4])
		if strings.HasPrefix(mp+"/", root) {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
