// Package store keeps the local rack's records (apps, builds, releases,
// parameters, cache push times) in one bbolt file, so a restart loses nothing.
package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/convox/rack/pkg/structs"
)

// Bucket names; builds and releases nest one bucket per app.
var (
	bucketApps     = []byte("apps")
	bucketBuilds   = []byte("builds")
	bucketReleases = []byte("releases")
	bucketParams   = []byte("params")
	bucketSeen     = []byte("seen")
)

// Store is an open state file.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the state file at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketApps, bucketBuilds, bucketReleases, bucketParams, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the state file.
func (s *Store) Close() error {
	return s.db.Close()
}

func notFound(kind, name string) error {
	return fmt.Errorf("no such %s: %s: %w", kind, name, structs.ErrNotFound)
}

// AppPut creates or replaces an app; with create set it refuses an existing name.
func (s *Store) AppPut(a structs.App, create bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketApps)
		if create && b.Get([]byte(a.Name)) != nil {
			return fmt.Errorf("app already exists: %s: %w", a.Name, structs.ErrInvalid)
		}
		return putJSON(b, a.Name, a)
	})
}

// AppGet returns an app.
func (s *Store) AppGet(name string) (*structs.App, error) {
	var a structs.App
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketApps), name, &a, "app")
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// AppList lists apps by name.
func (s *Store) AppList() (structs.Apps, error) {
	as := structs.Apps{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketApps).ForEach(func(_, v []byte) error {
			var a structs.App
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decoding app: %w", err)
			}
			as = append(as, a)
			return nil
		})
	})
	return as, err
}

// AppDelete removes an app with its builds and releases.
func (s *Store) AppDelete(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketApps)
		if b.Get([]byte(name)) == nil {
			return notFound("app", name)
		}
		if err := b.Delete([]byte(name)); err != nil {
			return err
		}
		for _, parent := range [][]byte{bucketBuilds, bucketReleases} {
			if tx.Bucket(parent).Bucket([]byte(name)) != nil {
				if err := tx.Bucket(parent).DeleteBucket([]byte(name)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// record orders builds and releases: Seq grows with every insert.
type record[T any] struct {
	Seq  uint64 `json:"seq"`
	Item T      `json:"item"`
}

// BuildPut stores b; a new build gets the next sequence number.
func (s *Store) BuildPut(b structs.Build) error {
	return put(s.db, bucketBuilds, b.App, b.Id, b)
}

// BuildUpdate applies fn to a stored build atomically and returns the result.
func (s *Store) BuildUpdate(app, id string, fn func(*structs.Build) error) (*structs.Build, error) {
	return update(s.db, bucketBuilds, app, id, "build", fn)
}

// BuildGet returns a build.
func (s *Store) BuildGet(app, id string) (*structs.Build, error) {
	return get[structs.Build](s.db, bucketBuilds, app, id, "build")
}

// BuildList returns an app's builds, newest first, at most limit (0: all).
func (s *Store) BuildList(app string, limit int) (structs.Builds, error) {
	items, err := list[structs.Build](s.db, bucketBuilds, app, limit)
	return structs.Builds(items), err
}

// ReleasePut stores r; a new release gets the next sequence number.
func (s *Store) ReleasePut(r structs.Release) error {
	return put(s.db, bucketReleases, r.App, r.Id, r)
}

// ReleaseGet returns a release.
func (s *Store) ReleaseGet(app, id string) (*structs.Release, error) {
	return get[structs.Release](s.db, bucketReleases, app, id, "release")
}

// ReleaseList returns an app's releases, newest first, at most limit (0: all).
func (s *Store) ReleaseList(app string, limit int) (structs.Releases, error) {
	items, err := list[structs.Release](s.db, bucketReleases, app, limit)
	return structs.Releases(items), err
}

func put[T any](db *bolt.DB, parent []byte, app, id string, item T) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(parent).CreateBucketIfNotExists([]byte(app))
		if err != nil {
			return err
		}
		r := record[T]{Item: item}
		if old := b.Get([]byte(id)); old != nil {
			var prev record[T]
			if err := json.Unmarshal(old, &prev); err != nil {
				return fmt.Errorf("decoding %s: %w", id, err)
			}
			r.Seq = prev.Seq
		} else if r.Seq, err = b.NextSequence(); err != nil {
			return err
		}
		return putJSON(b, id, r)
	})
}

func update[T any](db *bolt.DB, parent []byte, app, id, kind string, fn func(*T) error) (*T, error) {
	var r record[T]
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(parent).Bucket([]byte(app))
		if b == nil {
			return notFound(kind, id)
		}
		if err := getJSON(b, id, &r, kind); err != nil {
			return err
		}
		if err := fn(&r.Item); err != nil {
			return err
		}
		return putJSON(b, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &r.Item, nil
}

func get[T any](db *bolt.DB, parent []byte, app, id, kind string) (*T, error) {
	var r record[T]
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(parent).Bucket([]byte(app))
		if b == nil {
			return notFound(kind, id)
		}
		return getJSON(b, id, &r, kind)
	})
	if err != nil {
		return nil, err
	}
	return &r.Item, nil
}

func list[T any](db *bolt.DB, parent []byte, app string, limit int) ([]T, error) {
	var rs []record[T]
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(parent).Bucket([]byte(app))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r record[T]
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding %s: %w", k, err)
			}
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Seq > rs[j].Seq })
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, r.Item)
	}
	return out, nil
}

// Params returns the stored parameter values (only those ever set).
func (s *Store) Params() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketParams).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}

// SetParams stores values in one transaction.
func (s *Store) SetParams(values map[string]string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketParams)
		for k, v := range values {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

func getJSON(b *bolt.Bucket, key string, v any, kind string) error {
	data := b.Get([]byte(key))
	if data == nil {
		return notFound(kind, key)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s %s: %w", kind, key, err)
	}
	return nil
}
