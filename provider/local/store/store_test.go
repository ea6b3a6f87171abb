package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/convox/rack/pkg/structs"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecordsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	if err := s.AppPut(structs.App{Name: "app1", Generation: "2"}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AppPut(structs.App{Name: "app1"}, true); !errors.Is(err, structs.ErrInvalid) {
		t.Fatalf("duplicate app: %v", err)
	}
	for _, id := range []string{"BFIRST", "BSECOND", "BTHIRD"} {
		if err := s.BuildPut(structs.Build{Id: id, App: "app1", Status: structs.BuildStatusRunning}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.BuildUpdate("app1", "BFIRST", func(b *structs.Build) error { b.Status = structs.BuildStatusComplete; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleasePut(structs.Release{Id: "RONE", App: "app1", Build: "BFIRST"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetParams(map[string]string{"BuildCache": "Yes"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	bs, err := s.BuildList("app1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 || bs[0].Id != "BTHIRD" || bs[2].Id != "BFIRST" || bs[2].Status != structs.BuildStatusComplete {
		t.Fatalf("builds after reopen = %+v", bs)
	}
	if bs, _ := s.BuildList("app1", 2); len(bs) != 2 {
		t.Fatalf("limit 2 gave %d builds", len(bs))
	}
	if r, err := s.ReleaseGet("app1", "RONE"); err != nil || r.Build != "BFIRST" {
		t.Fatalf("release = %+v, %v", r, err)
	}
	if p, _ := s.Params(); p["BuildCache"] != "Yes" {
		t.Fatalf("params = %v", p)
	}
	if _, err := s.BuildGet("app1", "BNONE"); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("missing build: %v", err)
	}
	if err := s.AppDelete("app1"); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.BuildList("app1", 0); len(bs) != 0 {
		t.Fatalf("builds of a deleted app: %v", bs)
	}
}

func TestSeenAtKeepsFirstPushUntilDigestChanges(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at, _ := s.SeenAt("rack-build-cache", "web.buildcache", "sha256:a", t0)
	if !at.Equal(t0) {
		t.Fatalf("first seen = %v", at)
	}
	at, _ = s.SeenAt("rack-build-cache", "web.buildcache", "sha256:a", t0.Add(time.Hour))
	if !at.Equal(t0) {
		t.Fatalf("same digest moved the push time to %v", at)
	}
	at, _ = s.SeenAt("rack-build-cache", "web.buildcache", "sha256:b", t0.Add(2*time.Hour))
	if !at.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("re-push kept the old time %v", at)
	}
	s.SeenAt("rack-build-cache", "other", "sha256:c", t0)
	s.SeenAt("rack-build-cachex", "keep", "sha256:d", t0)
	if err := s.ForgetRepo("rack-build-cache"); err != nil {
		t.Fatal(err)
	}
	if at, _ := s.SeenAt("rack-build-cache", "other", "sha256:c", t0.Add(time.Hour)); !at.Equal(t0.Add(time.Hour)) {
		t.Fatal("ForgetRepo kept a record")
	}
	if at, _ := s.SeenAt("rack-build-cachex", "keep", "sha256:d", t0.Add(time.Hour)); !at.Equal(t0) {
		t.Fatal("ForgetRepo dropped another repo's record")
	}
}
