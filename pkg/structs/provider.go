package structs

import "io"

// Provider is a rack backend (local or aws): everything the API serves.
type Provider interface {
	AppCreate(name string, opts AppCreateOptions) (*App, error)
	AppDelete(name string) error
	AppGet(name string) (*App, error)
	AppList() (Apps, error)

	BuildCreate(app, url string, opts BuildCreateOptions) (*Build, error)
	BuildExport(app, id string, w io.Writer) error
	BuildGet(app, id string) (*Build, error)
	BuildImport(app string, r io.Reader) (*Build, error)
	BuildList(app string, opts BuildListOptions) (Builds, error)
	BuildLogs(app, id string, opts LogsOptions) (io.ReadCloser, error)
	BuildUpdate(app, id string, opts BuildUpdateOptions) (*Build, error)

	EventSend(action string, opts EventSendOptions) error

	ObjectDelete(app, key string) error
	ObjectExists(app, key string) (bool, error)
	ObjectFetch(app, key string) (io.ReadCloser, error)
	ObjectStore(app, key string, r io.Reader, opts ObjectStoreOptions) (*Object, error)

	ReleaseCreate(app string, opts ReleaseCreateOptions) (*Release, error)
	ReleaseGet(app, id string) (*Release, error)
	ReleaseList(app string, opts ReleaseListOptions) (Releases, error)
	ReleasePromote(app, id string, opts ReleasePromoteOptions) error

	SystemGet() (*System, error)
	SystemUpdate(opts SystemUpdateOptions) error
}
