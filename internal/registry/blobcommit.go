package registry

import (
	"net/http"
	"strings"
	"sync"
)

// commitLocks serialises the requests that complete a blob upload, per
// digest: distribution's filesystem driver moves each upload into the one
// blob path, and two builds pushing the same layer at once could read the
// other's half-moved data ("provided digest did not match uploaded content",
// then "blob unknown"). ECR has no such race, so a local push must not either.
type commitLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	next  http.Handler
}

func serialiseBlobCommits(next http.Handler) http.Handler {
	return &commitLocks{locks: map[string]*sync.Mutex{}, next: next}
}

func (c *commitLocks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	digest := r.URL.Query().Get("digest")
	if (r.Method != http.MethodPut && r.Method != http.MethodPost) || digest == "" || !strings.Contains(r.URL.Path, "/blobs/uploads/") {
		c.next.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	l, ok := c.locks[digest]
	if !ok {
		l = &sync.Mutex{}
		c.locks[digest] = l
	}
	c.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	c.next.ServeHTTP(w, r)
}
