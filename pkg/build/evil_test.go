package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
)

func evilTarball(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	body := []byte("pwned")
	tw.WriteHeader(&tar.Header{Name: "convox.yml", Typeflag: tar.TypeReg, Mode: 0o644, Size: 0})
	tw.WriteHeader(&tar.Header{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write(body)
	tw.Close()
	zw.Close()
	return buf.Bytes()
}
