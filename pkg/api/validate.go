package api

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/convox/rack/pkg/structs"
)

var (
	appName   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	recordID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	gitSha    = regexp.MustCompile(`^[0-9a-fA-F]{4,64}$`)
	buildArg  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*=`)
	maxDesc   = 4096
	maxKeyLen = 1024
)

// invalidError is a message for the client that is structs.ErrInvalid (400)
// without repeating "invalid" at its end.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return structs.ErrInvalid }

// invalidf builds an error the API answers with 400.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// validApp checks the app name of a request path: lowercase letters, digits
// and dashes, starting with a letter. A new app's name meets the stricter
// structs.CheckAppName; this one still reaches apps created before it.
func validApp(name string) error {
	if !appName.MatchString(name) {
		return invalidf("invalid app name %q: must start with a lowercase letter and contain only lowercase letters, digits and dashes (at most 63)", name)
	}
	return nil
}

// validID checks a build or release id.
func validID(kind, id string) error {
	if !recordID.MatchString(id) {
		return invalidf("invalid %s id %q: letters, digits, '-' and '_' only (at most 64)", kind, id)
	}
	return nil
}

// validRelativePath checks a client supplied path (object key, manifest): it
// must stay inside its root, so no absolute paths, no "..", no NUL.
func validRelativePath(kind, p string) error {
	switch {
	case p == "":
		return invalidf("%s required", kind)
	case len(p) > maxKeyLen:
		return invalidf("%s too long (at most %d bytes)", kind, maxKeyLen)
	case strings.ContainsRune(p, 0):
		return invalidf("invalid %s: contains a NUL byte", kind)
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`):
		return invalidf("invalid %s %q: must be relative", kind, p)
	}
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return invalidf("invalid %s %q: must not contain '..'", kind, p)
		}
	}
	if path.Clean(p) == "." {
		return invalidf("invalid %s %q", kind, p)
	}
	return nil
}

// validSourceURL checks the url of a build: an object:// url from ObjectStore or an http(s) url.
func validSourceURL(raw string) error {
	if raw == "" {
		return invalidf("url required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("invalid url: %v", err)
	}
	switch u.Scheme {
	case "object", "http", "https":
	default:
		return invalidf("invalid url scheme %q: object, http or https expected", u.Scheme)
	}
	if u.Scheme == "object" {
		return validRelativePath("object key", strings.TrimPrefix(u.Path, "/"))
	}
	return nil
}

// validBuildOptions checks the form of POST /apps/{app}/builds.
func validBuildOptions(opts structs.BuildCreateOptions) error {
	for _, a := range opts.BuildArgs {
		if !buildArg.MatchString(a) {
			return invalidf("invalid build arg %q: KEY=VALUE expected", argName(a))
		}
	}
	if opts.Description != nil {
		if err := validText("description", *opts.Description); err != nil {
			return err
		}
	}
	if opts.Manifest != nil && *opts.Manifest != "" {
		if err := validRelativePath("manifest", *opts.Manifest); err != nil {
			return err
		}
	}
	if opts.GitSha != nil && *opts.GitSha != "" && !gitSha.MatchString(*opts.GitSha) {
		return invalidf("invalid git-sha %q: hexadecimal expected", *opts.GitSha)
	}
	return nil
}

// argName keeps only the name of a build arg so a secret value never reaches an error.
func argName(arg string) string {
	if i := strings.IndexByte(arg, '='); i >= 0 {
		return arg[:i] + "=..."
	}
	if len(arg) > 64 {
		return arg[:64] + "..."
	}
	return arg
}

// validText checks a free text field: bounded and without NUL.
func validText(kind, s string) error {
	if len(s) > maxDesc {
		return invalidf("%s too long (at most %d bytes)", kind, maxDesc)
	}
	if strings.ContainsRune(s, 0) {
		return invalidf("invalid %s: contains a NUL byte", kind)
	}
	return nil
}

// validStatus checks a build status reported by the build task.
func validStatus(s string) error {
	switch s {
	case structs.BuildStatusCreated, structs.BuildStatusRunning, structs.BuildStatusComplete, structs.BuildStatusFailed:
		return nil
	}
	return invalidf("invalid status %q: created, running, complete or failed expected", s)
}
