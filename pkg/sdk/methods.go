package sdk

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdsdk"
)

// fetch sends a request and decodes its JSON answer as a T; on error T is its zero value.
func fetch[T any](c *Client, method, path string, ro stdsdk.RequestOptions) (T, error) {
	var v T
	if err := c.call(method, path, ro, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

func decodeJSON(r io.Reader, out any) error {
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// AppCreate creates an app (POST /apps).
func (c *Client) AppCreate(name string, opts structs.AppCreateOptions) (*structs.App, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	ro.Params["name"] = name
	return fetch[*structs.App](c, "POST", "/apps", ro)
}

// AppDelete deletes an app.
func (c *Client) AppDelete(name string) error {
	return c.call("DELETE", "/apps/"+seg(name), empty(), nil)
}

// AppGet returns one app.
func (c *Client) AppGet(name string) (*structs.App, error) {
	return fetch[*structs.App](c, "GET", "/apps/"+seg(name), empty())
}

// AppList lists the apps of the rack.
func (c *Client) AppList() (structs.Apps, error) {
	return fetch[structs.Apps](c, "GET", "/apps", empty())
}

// BuildCreate starts a build of the source at url (usually an object:// url from ObjectStore).
func (c *Client) BuildCreate(app, url string, opts structs.BuildCreateOptions) (*structs.Build, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	ro.Params["url"] = url
	if len(opts.BuildArgs) == 0 {
		delete(ro.Params, "build-args") // an empty list would arrive as one empty arg
	}
	return fetch[*structs.Build](c, "POST", fmt.Sprintf("/apps/%s/builds", seg(app)), ro)
}

// BuildExport writes the archive of a build to w.
func (c *Client) BuildExport(app, id string, w io.Writer) error {
	res, err := c.do("GET", fmt.Sprintf("/apps/%s/builds/%s.tgz", seg(app), seg(id)), empty())
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("export build %s: %w", id, err)
	}
	return nil
}

// BuildGet returns one build.
func (c *Client) BuildGet(app, id string) (*structs.Build, error) {
	return fetch[*structs.Build](c, "GET", fmt.Sprintf("/apps/%s/builds/%s", seg(app), seg(id)), empty())
}

// BuildImport creates a build of app from an archive made by BuildExport.
func (c *Client) BuildImport(app string, r io.Reader) (*structs.Build, error) {
	ro := empty()
	ro.Body = r
	return fetch[*structs.Build](c, "POST", fmt.Sprintf("/apps/%s/builds/import", seg(app)), ro)
}

// BuildList lists the builds of an app, newest first.
func (c *Client) BuildList(app string, opts structs.BuildListOptions) (structs.Builds, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	return fetch[structs.Builds](c, "GET", fmt.Sprintf("/apps/%s/builds", seg(app)), ro)
}

// BuildLogs streams the logs of a build over the websocket.
func (c *Client) BuildLogs(app, id string, opts structs.LogsOptions) (io.ReadCloser, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	return c.websocket(fmt.Sprintf("/apps/%s/builds/%s/logs", seg(app), seg(id)), ro)
}

// BuildUpdate records what the build task reports.
func (c *Client) BuildUpdate(app, id string, opts structs.BuildUpdateOptions) (*structs.Build, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	return fetch[*structs.Build](c, "PUT", fmt.Sprintf("/apps/%s/builds/%s", seg(app), seg(id)), ro)
}

// EventSend sends a rack event.
func (c *Client) EventSend(action string, opts structs.EventSendOptions) error {
	ro, err := options(opts)
	if err != nil {
		return err
	}
	ro.Params["action"] = action
	return c.call("POST", "/events", ro, nil)
}

// ObjectDelete deletes an object.
func (c *Client) ObjectDelete(app, k string) error {
	return c.call("DELETE", fmt.Sprintf("/apps/%s/objects/%s", seg(app), key(k)), empty(), nil)
}

// ObjectExists reports whether an object exists.
func (c *Client) ObjectExists(app, k string) (bool, error) {
	res, err := c.do("HEAD", fmt.Sprintf("/apps/%s/objects/%s", seg(app), key(k)), empty())
	if e, ok := err.(*Error); ok && e.Status == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res.Body.Close()
	return true, nil
}

// ObjectFetch returns the content of an object; the caller closes it.
func (c *Client) ObjectFetch(app, k string) (io.ReadCloser, error) {
	res, err := c.do("GET", fmt.Sprintf("/apps/%s/objects/%s", seg(app), key(k)), empty())
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// ObjectStore uploads r as an object; options travel in the query so the body stays raw.
func (c *Client) ObjectStore(app, k string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error) {
	ro := empty()
	ro.Body = r
	if opts.Public != nil {
		ro.Query["public"] = *opts.Public
	}
	return fetch[*structs.Object](c, "POST", fmt.Sprintf("/apps/%s/objects/%s", seg(app), key(k)), ro)
}

// ReleaseCreate creates a release.
func (c *Client) ReleaseCreate(app string, opts structs.ReleaseCreateOptions) (*structs.Release, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	return fetch[*structs.Release](c, "POST", fmt.Sprintf("/apps/%s/releases", seg(app)), ro)
}

// ReleaseGet returns one release.
func (c *Client) ReleaseGet(app, id string) (*structs.Release, error) {
	return fetch[*structs.Release](c, "GET", fmt.Sprintf("/apps/%s/releases/%s", seg(app), seg(id)), empty())
}

// ReleaseList lists the releases of an app, newest first.
func (c *Client) ReleaseList(app string, opts structs.ReleaseListOptions) (structs.Releases, error) {
	ro, err := options(opts)
	if err != nil {
		return nil, err
	}
	return fetch[structs.Releases](c, "GET", fmt.Sprintf("/apps/%s/releases", seg(app)), ro)
}

// ReleasePromote makes a release active.
func (c *Client) ReleasePromote(app, id string, opts structs.ReleasePromoteOptions) error {
	ro, err := options(opts)
	if err != nil {
		return err
	}
	return c.call("POST", fmt.Sprintf("/apps/%s/releases/%s/promote", seg(app), seg(id)), ro, nil)
}

// SystemGet describes the rack.
func (c *Client) SystemGet() (*structs.System, error) {
	return fetch[*structs.System](c, "GET", "/system", empty())
}

// SystemUpdate changes rack parameters.
func (c *Client) SystemUpdate(opts structs.SystemUpdateOptions) error {
	ro, err := options(opts)
	if err != nil {
		return err
	}
	return c.call("PUT", "/system", ro, nil)
}
