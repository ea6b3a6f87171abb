package yamlnode

import (
	"fmt"
	"strings"
)

// Unknown describes an unknown field, suggesting the closest allowed name
// for a likely typo and listing the allowed names otherwise.
func Unknown(key string, line int, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := distance(strings.ToLower(key), a); d < bestDist {
			best, bestDist = a, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (line %d), did you mean %q?", key, line, best)
	}
	return fmt.Sprintf("unknown field %q (line %d), allowed: %s", key, line, strings.Join(allowed, ", "))
}

// distance is the Levenshtein edit distance between a and b, capped for
// long input since only small distances matter.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
