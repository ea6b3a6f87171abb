// Package structs holds the rack's records (builds, releases, apps, objects,
// the system) with their Convox wire names, and the Provider interface every
// rack backend implements, so the API, the SDK and the providers share one
// vocabulary.
package structs
