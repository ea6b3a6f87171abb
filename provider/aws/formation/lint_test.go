package formation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/convox/rack/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintMatch is one finding in cfn-lint's JSON output.
type lintMatch struct {
	Level   string `json:"Level"`
	Message string `json:"Message"`
	Rule    struct {
		ID string `json:"Id"`
	} `json:"Rule"`
	Location struct {
		Path []any `json:"Path"`
	} `json:"Location"`
}

func (m lintMatch) String() string {
	return fmt.Sprintf("%s %s at %v: %s", m.Level, m.Rule.ID, m.Location.Path, m.Message)
}

// linter runs the real cfn-lint on the embedded template.
type linter struct {
	bin      string
	template string
}

func newLinter(t *testing.T) *linter {
	t.Helper()
	bin := testenv.Tool(t, "cfn-lint")
	path := filepath.Join(t.TempDir(), "rack.json")
	require.NoError(t, os.WriteFile(path, Template(), 0o644))
	return &linter{bin: bin, template: path}
}

// lint checks the template once for every parameter set: cfn-lint takes one
// --parameters group per set and evaluates each, so a matrix costs one start.
func (l *linter) lint(sets []map[string]string) ([]lintMatch, error) {
	args := []string{"-f", "json"}
	for _, set := range sets {
		args = append(args, "--parameters")
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, k+"="+set[k])
		}
	}
	args = append(args, "--", l.template)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(l.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // non-zero whenever it finds something: the output says what
	var matches []lintMatch
	if err := json.Unmarshal(stdout.Bytes(), &matches); err != nil {
		return nil, fmt.Errorf("cfn-lint output is not JSON (%v, run: %v): %s %s", err, runErr, stdout.String(), stderr.String())
	}
	return matches, nil
}

// required are the values the template's rules want given (no default names an unpublished image).
var required = map[string]string{"ImageRegistry": "123456789012.dkr.ecr.us-east-1.amazonaws.com", "Password": "secret"}

// listeners are the rack API's listener settings: HTTP, HTTPS on the load balancer's name, HTTPS on a custom one.
var listeners = []map[string]string{
	{},
	{"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/4f1c3a52-9b7e-4c39-8a4c-0c2d9a1b7e6f"},
	{"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/4f1c3a52-9b7e-4c39-8a4c-0c2d9a1b7e6f", "RackHostname": "rack.example.com"},
}

// matrix is every BuildCache x BuildCacheCleanup x BuildMethod x retention x listener combination.
func matrix() []map[string]string {
	var sets []map[string]string
	for _, cache := range []string{"Yes", "No"} {
		for _, cleanup := range []string{"Yes", "No"} {
			for _, method := range []string{"ec2", "fargate"} {
				for _, days := range []string{"1", "30", "365"} {
					for _, listener := range listeners {
						set := map[string]string{
							"BuildCache": cache, "BuildCacheCleanup": cleanup,
							"BuildMethod": method, "BuildCacheRetentionDays": days,
						}
						maps.Copy(set, required)
						maps.Copy(set, listener)
						sets = append(sets, set)
					}
				}
			}
		}
	}
	return sets
}

// Zero errors and zero warnings for every combination of the cache parameters.
func TestLintMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cfn-lint")
	}
	l := newLinter(t)
	sets := matrix()
	start := time.Now()
	matches, err := l.lint(sets)
	require.NoError(t, err)
	t.Logf("cfn-lint checked %d parameter sets in one run in %s", len(sets), time.Since(start).Round(time.Millisecond))
	if len(matches) == 0 {
		return
	}
	// Say where the findings come from: the template whatever the values, or which sets.
	plain, err := l.lint(nil)
	require.False(t, err == nil && len(plain) > 0, "cfn-lint finds these with any parameter values:\n%s", joinMatches(plain))
	for _, set := range l.failingSets(sets) {
		assert.Fail(t, fmt.Sprintf("failing set %v", set))
	}
	require.Fail(t, fmt.Sprintf("cfn-lint over the whole matrix:\n%s", joinMatches(matches)))
}

// failingSets bisects sets down to those cfn-lint finds something in, a few runs instead of one per set.
func (l *linter) failingSets(sets []map[string]string) []map[string]string {
	if found, err := l.lint(sets); err == nil && len(found) == 0 {
		return nil
	}
	if len(sets) == 1 {
		return sets
	}
	half := len(sets) / 2
	return append(l.failingSets(sets[:half]), l.failingSets(sets[half:])...)
}

// One run with several sets checks each of them: bad values in later sets are reported.
func TestLintChecksEverySet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cfn-lint")
	}
	l := newLinter(t)
	sets := append(matrix()[:2], map[string]string{"BuildCache": "maybe"}, map[string]string{"BuildMethod": "lambda"})
	matches, err := l.lint(sets)
	require.NoError(t, err)
	text := joinMatches(matches)
	for _, bad := range []string{"'maybe'", "'lambda'"} {
		assert.Contains(t, text, bad, "cfn-lint did not refuse %s: %s", bad, text)
	}
}

// Retention 0 and 366 are outside the template's MinValue/MaxValue. cfn-lint
// 1.51 checks AllowedValues of deployment parameters but not MinValue and
// MaxValue, so the template's own bounds are evaluated here in Go.
func TestRetentionBounds(t *testing.T) {
	for _, days := range []string{"0", "366"} {
		err := CheckParameters(map[string]string{"BuildCacheRetentionDays": days})
		assert.ErrorContains(t, err, "BuildCacheRetentionDays", "BuildCacheRetentionDays=%s: CheckParameters = %v, want a refusal naming it", days, err)
	}
	for _, days := range []string{"1", "365"} {
		err := CheckParameters(map[string]string{"BuildCacheRetentionDays": days})
		assert.NoError(t, err, "BuildCacheRetentionDays=%s refused: %v", days, err)
	}
}

func joinMatches(ms []lintMatch) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return strings.Join(out, "\n")
}

// cfn-lint with no parameter values at all (the template's defaults) finds nothing either.
func TestLintWithoutParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cfn-lint")
	}
	matches, err := newLinter(t).lint(nil)
	require.NoError(t, err)
	assert.Empty(t, matches, "cfn-lint with the defaults:\n%s", joinMatches(matches))
}
