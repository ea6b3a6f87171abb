package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Pushed records when a registry tag was first seen at a digest: the
// registry keeps no push times, and the janitor expires cache images by age.
type Pushed struct {
	Digest string    `json:"digest"`
	At     time.Time `json:"at"`
}

func seenKey(repo, tag string) []byte {
	return []byte(repo + ":" + tag)
}

// SeenAt returns when repo:tag was first seen at digest, recording now when
// the tag is new or now points at another digest (a re-push).
func (s *Store) SeenAt(repo, tag, digest string, now time.Time) (time.Time, error) {
	var p Pushed
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if data := b.Get(seenKey(repo, tag)); data != nil {
			if err := json.Unmarshal(data, &p); err != nil {
				return fmt.Errorf("decoding push time of %s:%s: %w", repo, tag, err)
			}
			if p.Digest == digest {
				return nil
			}
		}
		p = Pushed{Digest: digest, At: now.UTC()}
		return putJSON(b, string(seenKey(repo, tag)), p)
	})
	return p.At, err
}

// Forget drops the push time of repo:tag, after the tag is deleted.
func (s *Store) Forget(repo, tag string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSeen).Delete(seenKey(repo, tag))
	})
}

// ForgetRepo drops every push time of repo, after the repository is deleted.
func (s *Store) ForgetRepo(repo string) error {
	prefix := []byte(repo + ":")
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSeen).Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}
