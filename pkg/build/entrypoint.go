package build

import (
	"encoding/json"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/convox/rack/pkg/build/engine"
)

// imageEntrypoint reads a pushed image's ENTRYPOINT as a JSON array ("" when unset).
func imageEntrypoint(ref string, logins map[string]engine.Login) (string, error) {
	var opts []name.Option
	host := engine.RefHost(ref)
	if engine.IsLoopback(host) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return "", err
	}
	auth := authn.Anonymous
	if l, ok := logins[host]; ok {
		auth = &authn.Basic{Username: l.Username, Password: l.Password}
	}
	img, err := remote.Image(r, remote.WithAuth(auth))
	if err != nil {
		return "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	if len(cf.Config.Entrypoint) == 0 {
		return "", nil
	}
	data, err := json.Marshal(cf.Config.Entrypoint)
	return string(data), err
}
