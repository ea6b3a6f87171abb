// Command convox is the Convox command line for this rack: rack parameters,
// apps, builds (with the persistent layer cache), deploys and releases.
package main

import (
	"os"

	"github.com/convox/rack/pkg/cli"
)

// version is set at link time: -ldflags "-X main.version=..."
var version = "dev"

func main() {
	os.Exit(cli.New(version).Execute(os.Args[1:]))
}
