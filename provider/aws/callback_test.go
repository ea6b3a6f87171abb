package aws

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Build tasks call back on RACK_URL, or on the stack's RACK_ENDPOINT with the rack password.
func TestCallbackURL(t *testing.T) {
	for _, c := range []struct{ rackURL, endpoint, password, want string }{
		{"http://convox:pw@127.0.0.1:5443", "https://rack.example.com", "other", "http://convox:pw@127.0.0.1:5443"},
		{"", "https://rack.example.com", "p@ss/word", "https://convox:p%40ss%2Fword@rack.example.com"},
		{"", "http://convox-123.us-east-1.elb.amazonaws.com", "pw", "http://convox:pw@convox-123.us-east-1.elb.amazonaws.com"},
		{"", "", "pw", ""},
	} {
		got, err := callbackURL(c.rackURL, c.endpoint, c.password)
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	for _, bad := range []string{"rack.example.com", "ftp://rack.example.com", "https://"} {
		_, err := callbackURL("", bad, "pw")
		assert.ErrorContains(t, err, "RACK_ENDPOINT", bad)
	}
}
