package fuzz

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/convox/rack/pkg/buildarchive"
	"github.com/convox/rack/pkg/structs"

	"github.com/stretchr/testify/require"
)

// tgz is a gzipped tar of the given headers and bodies.
func tgz(f *testing.F, entries ...any) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := 0; i+1 < len(entries); i += 2 {
		hdr := entries[i].(*tar.Header)
		body := []byte(entries[i+1].(string))
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(body))
		}
		require.NoError(f, tw.WriteHeader(hdr))
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func reg(name string) *tar.Header { return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644} }

// FuzzArchiveRead: buildarchive.Read on any bytes never panics, refuses
// with ErrInvalid (a 400, never a 500), writes nothing outside its staging
// directory, leaves nothing behind after Close, and what it accepts holds
// only valid service names.
func FuzzArchiveRead(f *testing.F) {
	img, err := random.Image(256, 1)
	require.NoError(f, err)
	var good bytes.Buffer
	err = buildarchive.Write(&good, structs.Build{Id: "B1", App: "app1", Manifest: "services: {}"}, "convox/app1", map[string]v1.Image{"web": img})
	require.NoError(f, err)
	f.Add(good.Bytes())
	bj := `{"id":"B1","app":"app1"}`
	f.Add(tgz(f, reg("build.json"), bj, reg("../../evil"), "x"))
	f.Add(tgz(f, reg("build.json"), bj, reg("/etc/evil"), "x"))
	f.Add(tgz(f, reg("build.json"), bj, &tar.Header{Typeflag: tar.TypeSymlink, Name: "images/web.tar", Linkname: "/etc/passwd"}, ""))
	f.Add(tgz(f, reg("build.json"), bj, reg("build.json"), bj))
	f.Add(tgz(f, reg("images/web.tar"), "not a tarball"))
	f.Add(tgz(f, reg("build.json"), `{"id":`))
	f.Add(tgz(f, reg("build.json"), bj, reg("images/Bad_Name.tar"), "x"))
	f.Add(tgz(f, reg("build.json"), bj, reg("app1.B1.tar"), "not a docker save"))
	f.Add(tgz(f, reg("build.json"), bj, reg("app1.B1.tar"), "x", reg("images/web.tar"), "x"))
	f.Add([]byte("not gzip"))
	f.Add([]byte{})

	stage := f.TempDir()
	f.Setenv("TMPDIR", stage)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(execLimit)()
		a, err := buildarchive.Read(bytes.NewReader(data), buildarchive.Limits{MaxBytes: 1 << 20, MaxImages: 4})
		if err != nil {
			require.ErrorIs(t, err, buildarchive.ErrInvalid, "refused without ErrInvalid (the API would answer 500): %v", err)
			require.ErrorIs(t, err, structs.ErrInvalid, "refused without ErrInvalid (the API would answer 500): %v", err)
		} else {
			for _, s := range a.Services() {
				require.NoError(t, buildarchive.CheckService(s), "accepted service %q", s)
				_, err := a.Images[s].Manifest()
				require.NoError(t, err, "accepted image of %s without a manifest: %v", s, err)
			}
			require.NoError(t, a.Close())
		}
		left, err := os.ReadDir(stage)
		require.NoError(t, err)
		if len(left) > 0 {
			names := []string{}
			for _, e := range left {
				names = append(names, e.Name())
			}
			require.Fail(t, fmt.Sprintf("files left in the staging parent after Read/Close: %v", names))
		}
	})
}
