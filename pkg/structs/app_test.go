package structs_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/structs"
)

// ecrRepository is ECR's repository name pattern (CreateRepository), 2 to 256 long.
var ecrRepository = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// pushable reports why an app's image tag would be refused by a build
// method: kaniko parses it with go-containerregistry, buildx with the Docker
// reference grammar; the local rack's repository is the app name, an AWS
// rack's is "{rack}/{app}" in ECR.
func pushable(app string) error {
	for _, repo := range []string{"127.0.0.1:5000/" + app, "123456789012.dkr.ecr.us-east-1.amazonaws.com/rack1/" + app} {
		ref := repo + ":web.BABCDEFGHIJ"
		if _, err := name.NewTag(ref, name.StrictValidation); err != nil {
			return err
		}
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return err
		}
	}
	if ecr := "rack1/" + app; !ecrRepository.MatchString(ecr) || len(ecr) > 256 {
		return errors.New("ECR refuses " + ecr)
	}
	return nil
}

// TestAppNamesThatCheckBuild: every name CheckAppName accepts is a
// repository name kaniko, buildx and ECR take; the names it refuses are
// the ones at least one of them refuses, or too long.
func TestAppNamesThatCheckBuild(t *testing.T) {
	good := []string{"ab", "a1", "a-b", "app1", "my-app-2", "a0-b1-c2", strings.Repeat("a", structs.AppNameMax)}
	for _, n := range good {
		assert.NoError(t, structs.CheckAppName(n), n)
		assert.NoError(t, pushable(n), n)
	}
	bad := map[string]bool{ // name: a build method refuses it
		"m": true, "a-": true, "ab-": true, "a--b": true,
		"": true, "1a": false, "-a": true, "Ab": true, "a_b": false, "a.b": false,
		strings.Repeat("a", structs.AppNameMax+1): false,
	}
	for n, unbuildable := range bad {
		err := structs.CheckAppName(n)
		assert.ErrorIs(t, err, structs.ErrInvalid, n)
		if err != nil {
			assert.Contains(t, err.Error(), "invalid app name")
			assert.Contains(t, err.Error(), "2 to 30 lowercase letters")
			assert.NotContains(t, err.Error(), ": invalid")
		}
		if unbuildable {
			assert.Error(t, pushable(n), "%q is refused, but every build method takes it", n)
		}
	}
}

// FuzzAppName: a name CheckAppName accepts always builds.
func FuzzAppName(f *testing.F) {
	for _, s := range []string{"m", "ab", "a-b", "a--b", "a-", "app1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		if structs.CheckAppName(n) == nil {
			require.NoError(t, pushable(n), "%q passes CheckAppName but cannot build", n)
		}
	})
}
