package aws

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/convox/rack/pkg/structs"
)

// maxObjectKey bounds a key so that {app}/{key} stays within S3's 1024 bytes.
const maxObjectKey = 900

// checkKey refuses object keys that are empty, absolute, escaping or odd.
func checkKey(key string) error {
	switch {
	case key == "":
		return invalid(errors.New("object key is empty"))
	case len(key) > maxObjectKey:
		return invalid(fmt.Errorf("object key is longer than %d bytes", maxObjectKey))
	case strings.HasPrefix(key, "/"):
		return invalid(fmt.Errorf("object key %q is absolute", key))
	case strings.ContainsAny(key, "\\\x00\n\r"):
		return invalid(fmt.Errorf("object key %q holds a backslash or control character", key))
	}
	for _, part := range strings.Split(key, "/") {
		if part == ".." || part == "." || part == "" {
			return invalid(fmt.Errorf("object key %q: empty, '.' or '..' path segment", key))
		}
	}
	return nil
}

// object is the bucket and S3 key of an app's object, after checking the app and key.
func (p *Provider) object(app, key string) (bucket, s3key string, err error) {
	if err := checkKey(key); err != nil {
		return "", "", err
	}
	if _, err := p.AppGet(app); err != nil {
		return "", "", err
	}
	if p.res.ObjectBucket == "" {
		return "", "", errNoResources
	}
	return p.res.ObjectBucket, app + "/" + key, nil
}

// ObjectStore writes r to the app's key; it spools to a file first because a
// signed S3 upload needs a seekable body.
func (p *Provider) ObjectStore(app, key string, r io.Reader, opts structs.ObjectStoreOptions) (*structs.Object, error) {
	bucket, s3key, err := p.object(app, key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "object-*")
	if err != nil {
		return nil, fmt.Errorf("spooling object: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return nil, fmt.Errorf("reading object %s: %w", key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spooling object: %w", err)
	}
	_, err = p.s3.PutObject(p.ctx, &s3.PutObjectInput{Bucket: sdkaws.String(bucket), Key: sdkaws.String(s3key), Body: f})
	if err != nil {
		return nil, fmt.Errorf("storing object %s of app %s: %w", key, app, err)
	}
	return &structs.Object{Url: objectURL(app, key)}, nil
}

// ObjectFetch opens the app's key.
func (p *Provider) ObjectFetch(app, key string) (io.ReadCloser, error) {
	bucket, s3key, err := p.object(app, key)
	if err != nil {
		return nil, err
	}
	out, err := p.s3.GetObject(p.ctx, &s3.GetObjectInput{Bucket: sdkaws.String(bucket), Key: sdkaws.String(s3key)})
	if err != nil {
		if noObject(err) {
			return nil, notFound(fmt.Errorf("object %s of app %s not found", key, app))
		}
		return nil, fmt.Errorf("fetching object %s of app %s: %w", key, app, err)
	}
	return out.Body, nil
}

// ObjectExists reports whether the app's key is stored.
func (p *Provider) ObjectExists(app, key string) (bool, error) {
	bucket, s3key, err := p.object(app, key)
	if err != nil {
		return false, err
	}
	_, err = p.s3.HeadObject(p.ctx, &s3.HeadObjectInput{Bucket: sdkaws.String(bucket), Key: sdkaws.String(s3key)})
	if noObject(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up object %s of app %s: %w", key, app, err)
	}
	return true, nil
}

// ObjectDelete removes the app's key; a missing key is a 404.
func (p *Provider) ObjectDelete(app, key string) error {
	exists, err := p.ObjectExists(app, key)
	if err != nil {
		return err
	}
	if !exists {
		return notFound(fmt.Errorf("object %s of app %s not found", key, app))
	}
	bucket, s3key, err := p.object(app, key)
	if err != nil {
		return err
	}
	if _, err := p.s3.DeleteObject(p.ctx, &s3.DeleteObjectInput{Bucket: sdkaws.String(bucket), Key: sdkaws.String(s3key)}); err != nil {
		return fmt.Errorf("deleting object %s of app %s: %w", key, app, err)
	}
	return nil
}

// noObject reports whether err says the key is not there (GetObject's NoSuchKey, HeadObject's bare 404).
func noObject(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	var apiErr smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NotFound" || apiErr.ErrorCode() == "NoSuchKey"))
}

// objectURL is how an object is named outside the provider: object://{app}/{key}.
func objectURL(app, key string) string {
	return "object://" + app + "/" + key
}

// parseObjectURL splits object://{app}/{key}.
func parseObjectURL(u string) (app, key string, ok bool) {
	rest, ok := strings.CutPrefix(u, "object://")
	if !ok {
		return "", "", false
	}
	app, key, ok = strings.Cut(rest, "/")
	return app, key, ok && app != "" && key != ""
}
