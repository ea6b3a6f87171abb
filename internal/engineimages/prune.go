package engineimages

import (
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// staleAfter is how old another tag of an image must be before a new import
// removes it: old enough that no rack or test still starting can want it.
const staleAfter = 24 * time.Hour

// pruneStale removes the tags of repo other than keep that were made more
// than age ago, so old recipes do not pile up on the engine as cmd/build
// changes. The engine refuses to remove a tag a container still uses; that
// tag stays. It returns the tags it removed.
func pruneStale(docker, repo, keep string, age time.Duration) ([]string, error) {
	out, err := exec.Command(docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}", repo).Output()
	if err != nil {
		return nil, fmt.Errorf("listing %s images: %w", repo, err)
	}
	var removed []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ref, created, ok := strings.Cut(line, "\t")
		if !ok || ref == keep || strings.HasSuffix(ref, ":<none>") {
			continue
		}
		when, err := time.Parse("2006-01-02 15:04:05 -0700 MST", created)
		if err != nil || time.Since(when) < age {
			continue
		}
		if exec.Command(docker, "image", "rm", ref).Run() == nil {
			removed = append(removed, ref)
		}
	}
	return removed, nil
}
