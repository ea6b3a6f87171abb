package structs

import "time"

// Build statuses, in the order a build moves through them.
const (
	BuildStatusCreated  = "created"
	BuildStatusRunning  = "running"
	BuildStatusComplete = "complete"
	BuildStatusFailed   = "failed"
)

// Build is one build of an app: its images, manifest and outcome.
type Build struct {
	Id             string                `json:"id"`
	App            string                `json:"app"`
	Description    string                `json:"description"`
	Entrypoint     string                `json:"entrypoint"`
	GitSha         string                `json:"git-sha"`
	Logs           string                `json:"logs"`
	Manifest       string                `json:"manifest"`
	Process        string                `json:"process"`
	Release        string                `json:"release"`
	Reason         string                `json:"reason"`
	Repository     string                `json:"repository"`
	Status         string                `json:"status"`
	Started        time.Time             `json:"started"`
	Ended          time.Time             `json:"ended"`
	WildcardDomain bool                  `json:"wildcard-domain"`
	Cache          []BuildServiceSummary `json:"cache,omitempty"`
	// Inputs is the key of everything the build's images are made of
	// (pkg/build/inputs): a later build of the app with the same key reuses
	// this build's images instead of running an engine.
	Inputs string `json:"inputs,omitempty"`
	// Reused is the earlier build whose images this build reused, "" when it built them.
	Reused string `json:"reused,omitempty"`
}

// Builds is a list of builds, newest first when it comes from BuildList.
type Builds []Build

// BuildServiceSummary is what one service's build did: how many steps it had,
// how many came from a cache, and how long it took.
type BuildServiceSummary struct {
	Service string  `json:"service"`
	Steps   int     `json:"steps"`
	Cached  int     `json:"cached"`
	Seconds float64 `json:"seconds"`
	// PersistentCache says whether the registry cache was used for this service.
	PersistentCache bool `json:"persistent-cache"`
	// CacheSource is where its cached steps came from (a CacheSource* value), "" for none.
	CacheSource string `json:"cache-source,omitempty"`
}

// Where a service's cached steps came from: the cache-source of its summary.
const (
	// CacheSourceApp is the app's own cache ref for the service.
	CacheSourceApp = "app"
	// CacheSourceShared is a rack-wide ref of a dependency prefix, shared by apps.
	CacheSourceShared = "shared"
	// CacheSourceLegacy is the rack-wide per-service ref of racks before per-app refs.
	CacheSourceLegacy = "legacy"
	// CacheSourceLayers is kaniko's rack-wide layer cache, keyed by content.
	CacheSourceLayers = "layers"
	// CacheSourceReused is an earlier build with the same inputs, whose images were reused whole.
	CacheSourceReused = "reused"
)

// CacheSourceText says a cache source in words, for logs and `convox builds info`.
func CacheSourceText(source string) string {
	switch source {
	case CacheSourceApp:
		return "the app's own cache"
	case CacheSourceShared:
		return "the rack's shared cache"
	case CacheSourceLegacy:
		return "the pre-upgrade per-service cache"
	case CacheSourceLayers:
		return "the rack's layer cache"
	case CacheSourceReused:
		return "an earlier build's images, reused"
	}
	return source
}

// Terminal reports whether the build has finished, successfully or not.
func (b Build) Terminal() bool {
	return b.Status == BuildStatusComplete || b.Status == BuildStatusFailed
}

// BuildCreateOptions are the options of `convox build` sent to POST /apps/{app}/builds.
type BuildCreateOptions struct {
	BuildArgs      []string `flag:"build-args" param:"build-args"`
	Description    *string  `flag:"description,d" param:"description"`
	Development    *bool    `flag:"development" param:"development"`
	GitSha         *string  `param:"git-sha"`
	Manifest       *string  `flag:"manifest,m" param:"manifest"`
	NoCache        *bool    `flag:"no-cache" param:"no-cache"`
	WildcardDomain *bool    `flag:"wildcard-domain" param:"wildcard-domain"`
}

// BuildListOptions bound a build listing.
type BuildListOptions struct {
	Limit *int `flag:"limit" query:"limit"`
}

// BuildUpdateOptions are the fields the build task reports back through PUT /apps/{app}/builds/{id}.
type BuildUpdateOptions struct {
	Ended      *time.Time `param:"ended"`
	Entrypoint *string    `param:"entrypoint"`
	Logs       *string    `param:"logs"`
	Manifest   *string    `param:"manifest"`
	Reason     *string    `param:"reason"`
	Release    *string    `param:"release"`
	Started    *time.Time `param:"started"`
	Status     *string    `param:"status"`
	// Cache is the JSON encoding of []BuildServiceSummary.
	Cache *string `param:"cache"`
	// Inputs is the build's Inputs key; Reused the build whose images it reused.
	Inputs *string `param:"inputs"`
	Reused *string `param:"reused"`
}

// ApplyReuse sets the reuse fields of b that o carries: the one place every
// provider's BuildUpdate applies them.
func (o BuildUpdateOptions) ApplyReuse(b *Build) {
	if o.Inputs != nil {
		b.Inputs = *o.Inputs
	}
	if o.Reused != nil {
		b.Reused = *o.Reused
	}
}

// LogsOptions shape a log stream.
type LogsOptions struct {
	Follow *bool `flag:"follow" query:"follow"`
}
