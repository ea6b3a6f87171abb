package reliability

import (
	"context"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convox/rack/internal/faultproxy"
	"github.com/convox/rack/internal/memrack"
	"github.com/convox/rack/pkg/build"
	"github.com/convox/rack/pkg/buildtask"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leaks reports which of the registry's secrets occur in s.
func (w *world) leaks(s string) []string {
	var found []string
	for name, v := range map[string]string{
		"registry password": w.reg.Password,
		"BUILD_AUTH":        w.auth(),
		"basic auth":        base64.StdEncoding.EncodeToString([]byte(w.reg.Username + ":" + w.reg.Password)),
	} {
		if strings.Contains(s, v) {
			found = append(found, name)
		}
	}
	return found
}

// TestBrokenAuthNeverEchoed: a BUILD_AUTH that is not the expected JSON fails
// the build saying so, without repeating the value (it holds passwords).
func TestBrokenAuthNeverEchoed(t *testing.T) {
	w := &world{t: t, rack: memrack.New(), n: &atomic.Int32{}}
	const secret = "pw-never-shown-9c1d"
	for _, auth := range []string{"{" + secret, `["` + secret + `"]`, `{"h":"` + secret + `"}`, `{"h":{"password":` + secret + `}}`} {
		id := w.addBuild()
		// a source that reaches the engine, where BUILD_AUTH is read
		url := w.source("auth")
		var logs strings.Builder
		err := build.Run(context.Background(), w.rack, build.Options{Spec: buildtask.Spec{App: app, ID: id, URL: url, Push: "127.0.0.1:1/" + app,
			Auth: auth, Method: buildtask.EC2}}, &logs)
		b, gerr := w.rack.BuildGet(app, id)
		require.NoError(t, gerr)
		if !assert.Error(t, err, "BUILD_AUTH %q: build ran", auth) ||
			!assert.Equal(t, structs.BuildStatusFailed, b.Status, "BUILD_AUTH %q: status", auth) {
			continue
		}
		assert.Contains(t, b.Reason, "BUILD_AUTH", "reason does not name BUILD_AUTH: %q", b.Reason)
		stored := w.rack.Object(app, "build/"+id+"/logs")
		for where, s := range map[string]string{"error": err.Error(), "reason": b.Reason, "log": logs.String(), "stored log": stored} {
			assert.NotContains(t, s, secret, "BUILD_AUTH %q: the %s repeats it: %s", auth, where, s)
		}
	}
}

// TestRegistryLoginFailureHidesPassword: the app registry refusing the login
// fails the build; neither the log, the reason nor the record shows the
// registry password or BUILD_AUTH.
func TestRegistryLoginFailureHidesPassword(t *testing.T) {
	w := newWorld(t, "ec2", true)
	w.proxy.Fail("", faultproxy.Unauthorized)
	o := w.opts(w.source("login"))
	log, b, err := w.run(o, 4*time.Minute)
	require.Error(t, err, "build with its login refused: err=%v status=%q", err, b.Status)
	require.Equal(t, structs.BuildStatusFailed, b.Status, "build with its login refused: err=%v status=%q", err, b.Status)
	stored := w.rack.Object(app, "build/"+o.ID+"/logs")
	for where, s := range map[string]string{"log": log, "stored log": stored, "reason": b.Reason, "error": err.Error(),
		"manifest": b.Manifest, "entrypoint": b.Entrypoint} {
		found := w.leaks(s)
		assert.Empty(t, found, "the %s leaks the %s", where, strings.Join(found, ", "))
	}
}
