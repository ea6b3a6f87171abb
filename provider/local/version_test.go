package local

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/pkg/version"
)

// The rack reports the version stamped into the binary, "dev" without a stamp.
func TestSystemVersion(t *testing.T) {
	p := newRack(t, t.TempDir(), time.Now)
	s, err := p.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "dev", s.Version)

	stamped := version.Version
	t.Cleanup(func() { version.Version = stamped })
	version.Version = "20261130051500"
	s, err = p.SystemGet()
	require.NoError(t, err)
	assert.Equal(t, "20261130051500", s.Version)
}
