package structs

import "errors"

// ErrNotFound marks a missing app, build, release or object; the API maps it to 404.
var ErrNotFound = errors.New("not found")

// ErrInvalid marks bad input; the API maps it to 400.
var ErrInvalid = errors.New("invalid")
