package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	require.NoError(t, err)
	return s
}

func TestRecordsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	err := s.AppPut(structs.App{Name: "app1", Generation: "2"}, true)
	require.NoError(t, err)
	err = s.AppPut(structs.App{Name: "app1"}, true)
	require.ErrorIs(t, err, structs.ErrInvalid, "duplicate app: %v", err)
	for _, id := range []string{"BFIRST", "BSECOND", "BTHIRD"} {
		err := s.BuildPut(structs.Build{Id: id, App: "app1", Status: structs.BuildStatusRunning})
		require.NoError(t, err)
	}
	_, err = s.BuildUpdate("app1", "BFIRST", func(b *structs.Build) error { b.Status = structs.BuildStatusComplete; return nil })
	require.NoError(t, err)
	err = s.ReleasePut(structs.Release{Id: "RONE", App: "app1", Build: "BFIRST"})
	require.NoError(t, err)
	err = s.SetParams(map[string]string{"BuildCache": "Yes"})
	require.NoError(t, err)
	s.Close()

	s = open(t, path)
	defer s.Close()
	bs, err := s.BuildList("app1", 0)
	require.NoError(t, err)
	require.Len(t, bs, 3, "builds after reopen = %+v", bs)
	require.EqualValues(t, "BTHIRD", bs[0].Id, "builds after reopen = %+v", bs)
	require.EqualValues(t, "BFIRST", bs[2].Id, "builds after reopen = %+v", bs)
	require.Equal(t, structs.BuildStatusComplete, bs[2].Status, "builds after reopen = %+v", bs)
	bs, err = s.BuildList("app1", 2)
	require.NoError(t, err)
	require.Len(t, bs, 2, "limit 2")
	r, err := s.ReleaseGet("app1", "RONE")
	require.NoError(t, err, "release = %+v, %v", r, err)
	require.EqualValues(t, "BFIRST", r.Build, "release = %+v, %v", r, err)
	p, _ := s.Params()
	require.EqualValues(t, "Yes", p["BuildCache"], "params = %v", p)
	_, err = s.BuildGet("app1", "BNONE")
	require.ErrorIs(t, err, structs.ErrNotFound, "missing build: %v", err)
	require.NoError(t, s.AppDelete("app1"))
	bs, err = s.BuildList("app1", 0)
	require.NoError(t, err)
	require.Empty(t, bs, "builds of a deleted app: %v", bs)
}

func TestSeenAtKeepsFirstPushUntilDigestChanges(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at, _ := s.SeenAt("rack-build-cache", "web.buildcache", "sha256:a", t0)
	require.True(t, at.Equal(t0), "first seen = %v", at)
	at, _ = s.SeenAt("rack-build-cache", "web.buildcache", "sha256:a", t0.Add(time.Hour))
	require.True(t, at.Equal(t0), "same digest moved the push time to %v", at)
	at, _ = s.SeenAt("rack-build-cache", "web.buildcache", "sha256:b", t0.Add(2*time.Hour))
	require.True(t, at.Equal(t0.Add(2*time.Hour)), "re-push kept the old time %v", at)
	s.SeenAt("rack-build-cache", "other", "sha256:c", t0)
	s.SeenAt("rack-build-cachex", "keep", "sha256:d", t0)
	require.NoError(t, s.ForgetRepo("rack-build-cache"))
	at, err := s.SeenAt("rack-build-cache", "other", "sha256:c", t0.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, at.Equal(t0.Add(time.Hour)), "ForgetRepo kept a record")
	at, _ = s.SeenAt("rack-build-cachex", "keep", "sha256:d", t0.Add(time.Hour))
	require.True(t, at.Equal(t0), "ForgetRepo dropped another repo's record")
}
