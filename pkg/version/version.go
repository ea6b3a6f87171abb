// Package version is the rack's version, stamped into the binaries at build
// time (make and hack/images.sh do it with hack/version.sh):
//
//	go build -ldflags "-X github.com/convox/rack/pkg/version.Version=20260101120000" ./cmd/rack
//
// Both providers report it as structs.System.Version.
package version

// Dev is the version of a binary built without a stamp, as upstream Convox names it.
const Dev = "dev"

// Version is the stamped version: the UTC time of the commit as YYYYMMDDhhmmss,
// the shape of upstream Convox rack versions. The upstream convox CLI compares
// a rack's version as a string against such timestamps (20180416200237,
// 20180708231844, 20190111211123) and takes its oldest code paths (multipart
// build uploads, classic resources) for anything not above them: an empty
// version among them. Both a timestamp of today and "dev" sort above every
// cutoff, so the CLI takes its current paths.
var Version = Dev

// Current is the version to report: the stamp, or "dev" when the stamp is empty.
func Current() string {
	if Version == "" {
		return Dev
	}
	return Version
}
