package engineimages

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"sort"
)

// copyTar copies every entry of an uncompressed tarball into tw.
func copyTar(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// dirs writes directory entries.
func dirs(tw *tar.Writer, mode int64, names ...string) error {
	for _, d := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode}); err != nil {
			return err
		}
	}
	return nil
}

// addData writes one regular file.
func addData(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// addFiles writes executables (following symlinks) at their image paths.
func addFiles(tw *tar.Writer, files map[string]string) error {
	names := make([]string, 0, len(files))
	for dst := range files {
		names = append(names, dst)
	}
	sort.Strings(names)
	for _, dst := range names {
		data, err := os.ReadFile(files[dst])
		if err != nil {
			return err
		}
		if err := addData(tw, dst, data, 0o755); err != nil {
			return err
		}
	}
	return nil
}
