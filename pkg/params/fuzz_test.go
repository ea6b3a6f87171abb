package params

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzValidate feeds Validate pairs of name and value; the input is
// "name=value" lines so one case can hold several parameters.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		"BuildCache=Yes",
		"BuildCacheRetentionDays=0",
		"BuildCacheRetentionDays=365\nBuildCache=maybe\nFoo=1",
		"BuildCpu=16384\nBuildMemory=01",
		"FargateBuildCpu=256\nPassword=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		values := map[string]string{}
		for _, line := range strings.Split(input, "\n") {
			k, v, _ := strings.Cut(line, "=")
			values[k] = v
		}
		err := Validate(values)
		if err == nil {
			for k, v := range values {
				p, ok := Lookup(k)
				require.True(t, ok, "Validate accepted unknown parameter %q", k)
				cerr := p.Check(v)
				require.NoError(t, cerr, "Validate accepted %s=%q but Check says %v", k, v, cerr)
			}
			return
		}
		var ve *ValidationError
		require.True(t, errors.As(err, &ve), "Validate error %v (%T) must be a non-empty *ValidationError", err, err)
		require.NotEmpty(t, ve.Problems, "Validate error %v (%T) must be a non-empty *ValidationError", err, err)
		require.NotEmpty(t, err.Error(), "Validate error %v (%T) must be a non-empty *ValidationError", err, err)
		for _, p := range ve.Problems {
			require.NotEmpty(t, p, "Validate returned an empty problem in %q", ve.Problems)
		}
		bad := 0
		for k, v := range values {
			if p, ok := Lookup(k); !ok || p.Check(v) != nil {
				bad++
			}
		}
		require.Equal(t, len(ve.Problems), bad, "%d bad values but %d problems: %q", bad, len(ve.Problems), ve.Problems)
	})
}
