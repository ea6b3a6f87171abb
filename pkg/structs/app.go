package structs

import (
	"fmt"
	"regexp"
)

// App is a named application with its build generation and active release.
type App struct {
	Name       string `json:"name"`
	Generation string `json:"generation"`
	Release    string `json:"release"`
	Status     string `json:"status"`
}

// Apps is a list of apps.
type Apps []App

// AppCreateOptions describe a new app; Generation is "2" unless "1" is asked for.
type AppCreateOptions struct {
	Generation *string `flag:"generation,g" param:"generation"`
}

// AppNameMax is the longest app name: the app's image repository and the
// build cache refs derived from it stay within registry limits.
const AppNameMax = 30

// appName is a name every build method can push to: ECR and the Docker
// reference grammar refuse a dash at the end or two in a row, and kaniko
// (go-containerregistry) a repository shorter than 2 characters.
var appName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// CheckAppName reports why name cannot be a new app's name, nil when it can:
// the name becomes the app's image repository, so it must build on every method.
// The error wraps ErrInvalid.
func CheckAppName(name string) error {
	if len(name) < 2 || len(name) > AppNameMax || !appName.MatchString(name) {
		return appNameError(fmt.Sprintf("invalid app name %q: 2 to %d lowercase letters, digits and single dashes, starting with a letter and ending with a letter or digit (it names the app's image repository)", name, AppNameMax))
	}
	return nil
}

// appNameError is an invalid app name, ErrInvalid without saying "invalid" twice.
type appNameError string

func (e appNameError) Error() string { return string(e) }
func (e appNameError) Unwrap() error { return ErrInvalid }
