package structs

import "time"

// Release is a build plus environment: what `releases promote` makes active.
type Release struct {
	Id          string    `json:"id"`
	App         string    `json:"app"`
	Build       string    `json:"build"`
	Description string    `json:"description"`
	Env         string    `json:"env"`
	Manifest    string    `json:"manifest"`
	Created     time.Time `json:"created"`
}

// Releases is a list of releases, newest first.
type Releases []Release

// ReleaseCreateOptions describe a new release.
type ReleaseCreateOptions struct {
	Build       *string `param:"build"`
	Description *string `param:"description"`
	Env         *string `param:"env"`
}

// ReleaseListOptions bound a release listing.
type ReleaseListOptions struct {
	Limit *int `flag:"limit" query:"limit"`
}

// ReleasePromoteOptions are reserved for promote flags.
type ReleasePromoteOptions struct{}
