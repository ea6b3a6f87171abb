// Package janitor expires build cache images older than the retention, the
// local counterpart of an ECR lifecycle rule on sinceImagePushed. It only
// ever looks at the cache repository, so app images are never touched.
package janitor

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Registry is what the janitor needs from the registry API.
type Registry interface {
	Tags(ctx context.Context, repo string) ([]string, error)
	Digest(ctx context.Context, repo, tag string) (string, error)
	DeleteDigest(ctx context.Context, repo, digest string) error
}

// Pushes remembers when each tag was first seen at its digest.
type Pushes interface {
	SeenAt(repo, tag, digest string, now time.Time) (time.Time, error)
	Forget(repo, tag string) error
}

// Policy is the cleanup setting: whether to expire, and after how many days.
type Policy struct {
	Cleanup       bool
	RetentionDays int
}

// Janitor sweeps one repository.
type Janitor struct {
	// Repo is the cache repository, e.g. convox-build-cache.
	Repo     string
	Registry Registry
	Pushes   Pushes
	// Now is the clock; tests move it forward.
	Now func() time.Time
	// Skip lists tags never expired (the repository marker).
	Skip []string
}

// Result says what a sweep did.
type Result struct {
	Kept    []string
	Expired []string
}

// Sweep records the push time of every tag not seen before and, when policy
// asks for cleanup, deletes the images first pushed more than RetentionDays ago.
func (j *Janitor) Sweep(ctx context.Context, policy Policy) (Result, error) {
	var res Result
	tags, err := j.Registry.Tags(ctx, j.Repo)
	if err != nil {
		return res, fmt.Errorf("janitor: %w", err)
	}
	sort.Strings(tags)
	now := j.Now()
	retention := time.Duration(policy.RetentionDays) * 24 * time.Hour
	// An image is a digest; it was pushed when the newest of its tags was.
	byDigest := map[string][]string{}
	pushed := map[string]time.Time{}
	var digests []string
	for _, tag := range tags {
		if j.skip(tag) {
			continue
		}
		digest, err := j.Registry.Digest(ctx, j.Repo, tag)
		if err != nil {
			return res, fmt.Errorf("janitor: %w", err)
		}
		at, err := j.Pushes.SeenAt(j.Repo, tag, digest, now)
		if err != nil {
			return res, fmt.Errorf("janitor: %w", err)
		}
		if _, ok := byDigest[digest]; !ok {
			digests = append(digests, digest)
		}
		byDigest[digest] = append(byDigest[digest], tag)
		if at.After(pushed[digest]) {
			pushed[digest] = at
		}
	}
	for _, digest := range digests {
		if !policy.Cleanup || policy.RetentionDays < 1 || now.Sub(pushed[digest]) <= retention {
			res.Kept = append(res.Kept, byDigest[digest]...)
			continue
		}
		if err := j.Registry.DeleteDigest(ctx, j.Repo, digest); err != nil {
			return res, fmt.Errorf("janitor: %w", err)
		}
		for _, tag := range byDigest[digest] {
			if err := j.Pushes.Forget(j.Repo, tag); err != nil {
				return res, fmt.Errorf("janitor: %w", err)
			}
		}
		res.Expired = append(res.Expired, byDigest[digest]...)
	}
	return res, nil
}

func (j *Janitor) skip(tag string) bool {
	for _, s := range j.Skip {
		if s == tag {
			return true
		}
	}
	return false
}

// Run sweeps every interval until ctx ends, reading the policy each time;
// errors go to report (a registry hiccup must not stop the janitor).
func (j *Janitor) Run(ctx context.Context, every time.Duration, policy func() (Policy, bool), report func(Result, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if p, on := policy(); on {
			res, err := j.Sweep(ctx, p)
			report(res, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
