package aws

import (
	"sort"
	"strings"

	"github.com/convox/rack/pkg/structs"
)

// EventSend records a rack event in the provider log (names of data keys only:
// their values may be secret).
func (p *Provider) EventSend(action string, opts structs.EventSendOptions) error {
	keys := make([]string, 0, len(opts.Data))
	for k := range opts.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p.logf("at=event action=%q status=%q data=%s", action, deref(opts.Status), strings.Join(keys, ","))
	return nil
}
