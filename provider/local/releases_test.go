package local

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/structs"
)

func TestReleaseOfABuildTakesItsDescription(t *testing.T) {
	p := newRack(t, t.TempDir(), time.Now)
	_, err := p.AppCreate("web", structs.AppCreateOptions{})
	require.NoError(t, err)
	b := structs.Build{Id: "BDESC", App: "web", Description: "fix the login page", Status: structs.BuildStatusComplete, Manifest: "services: {}\n"}
	require.NoError(t, p.store.BuildPut(b))

	r, err := p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: &b.Id})
	require.NoError(t, err)
	assert.Equal(t, "fix the login page", r.Description)
	listed, err := p.ReleaseList("web", structs.ReleaseListOptions{})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.Equal(t, "fix the login page", listed[0].Description, "as `convox releases` shows it")

	own := "rollback"
	r, err = p.ReleaseCreate("web", structs.ReleaseCreateOptions{Build: &b.Id, Description: &own})
	require.NoError(t, err)
	assert.Equal(t, "rollback", r.Description, "an explicit description wins")
}
