package testenv

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	buildBinaryOnce sync.Once
	buildBinaryPath string
	buildBinaryErr  error
)

// Recipe versions of the engine images below: bump to rebuild them.
const (
	buildkitImageRev = "1"
	kanikoImageRev   = "1"
)

// BuildKitImage makes, once per tool version, a BuildKit image on the Docker
// engine (Debian rootfs + runc + buildkitd + buildctl) for buildx
// docker-container builders, since the engine has no registry to pull from.
func BuildKitImage(t testing.TB) string {
	t.Helper()
	docker := RequireDockerEngine(t)
	rootfs := DebianRootfsTar(t)
	bins := map[string]string{
		"usr/local/bin/buildkitd": Tool(t, "buildkitd"),
		"usr/local/bin/buildctl":  Tool(t, "buildctl"),
		"usr/bin/runc":            Tool(t, "runc"),
	}
	tag := "convox-test-buildkit:" + fileKey(t, buildkitImageRev, rootfs, bins)
	changes := []string{
		`ENTRYPOINT ["buildkitd"]`,
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"VOLUME /var/lib/buildkit",
	}
	importImage(t, docker, tag, changes, func(tw *tar.Writer) error {
		if err := copyTar(tw, rootfs); err != nil {
			return err
		}
		for _, dir := range []string{"etc/buildkit/", "var/lib/buildkit/"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
				return err
			}
		}
		return addFiles(tw, bins)
	})
	return tag
}

// KanikoImage makes the fargate runner image on the Docker engine: kaniko
// laid out as kaniko expects (/kaniko/executor, DOCKER_CONFIG=/kaniko/.docker),
// the static build binary at /kaniko/build and busybox in /busybox.
func KanikoImage(t testing.TB) string {
	t.Helper()
	docker := RequireDockerEngine(t)
	build := BuildBinary(t)
	bins := map[string]string{
		"kaniko/executor": Tool(t, "executor"),
		"kaniko/build":    build,
		"busybox/busybox": BusyboxPath(t),
	}
	tag := "convox-test-kaniko:" + fileKey(t, kanikoImageRev, "", bins)
	changes := []string{
		`ENTRYPOINT ["/kaniko/executor"]`,
		"ENV PATH=/usr/local/bin:/kaniko:/busybox",
		"ENV DOCKER_CONFIG=/kaniko/.docker/",
		"ENV SSL_CERT_DIR=/kaniko/ssl/certs",
		"ENV HOME=/root",
		"ENV USER=root",
		"WORKDIR /workspace",
	}
	importImage(t, docker, tag, changes, func(tw *tar.Writer) error {
		for _, dir := range []string{"kaniko/", "kaniko/.docker/", "kaniko/ssl/", "kaniko/ssl/certs/", "busybox/", "workspace/", "root/", "etc/"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}); err != nil {
			return err
		}
		for _, applet := range []string{"sh", "ls", "cat", "echo", "mkdir", "rm", "cp", "env", "find", "sleep", "grep", "sed", "tar", "wc"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "busybox/" + applet, Linkname: "busybox", Mode: 0o777}); err != nil {
				return err
			}
		}
		nss := []byte("hosts: files dns\n")
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/nsswitch.conf", Mode: 0o644, Size: int64(len(nss))}); err != nil {
			return err
		}
		if _, err := tw.Write(nss); err != nil {
			return err
		}
		files := bins
		if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
			files = map[string]string{"kaniko/ssl/certs/ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt"}
			for k, v := range bins {
				files[k] = v
			}
		}
		return addFiles(tw, files)
	})
	return tag
}

// BuildBinary builds cmd/build statically, once per test binary run.
func BuildBinary(t testing.TB) string {
	t.Helper()
	buildBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convox-build-bin-")
		if err != nil {
			buildBinaryErr = err
			return
		}
		buildBinaryPath = filepath.Join(dir, "build")
		cmd := exec.Command("go", "build", "-trimpath", "-o", buildBinaryPath, "./cmd/build")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildBinaryErr = fmt.Errorf("go build ./cmd/build: %v: %s", err, out)
		}
	})
	if buildBinaryErr != nil {
		t.Fatal(buildBinaryErr)
	}
	return buildBinaryPath
}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// fileKey hashes a recipe revision and the content of the files going into an image.
func fileKey(t testing.TB, rev, rootfs string, files map[string]string) string {
	t.Helper()
	h := sha256.New()
	fmt.Fprintln(h, rev)
	paths := []string{rootfs}
	for dst, src := range files {
		paths = append(paths, dst+"="+src)
	}
	sort.Strings(paths)
	for _, p := range paths {
		src := p
		if _, s, ok := strings.Cut(p, "="); ok {
			src = s
		}
		if src == "" {
			continue
		}
		f, err := os.Open(src)
		if err != nil {
			t.Fatalf("image input: %v", err)
		}
		fmt.Fprintln(h, p)
		io.Copy(h, f)
		f.Close()
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// importImage pipes a tar written by fill into `docker import` unless tag exists.
func importImage(t testing.TB, docker, tag string, changes []string, fill func(*tar.Writer) error) {
	t.Helper()
	if exec.Command(docker, "image", "inspect", tag).Run() == nil {
		return
	}
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	cmd := exec.Command(docker, append(args, "-", tag)...)
	pr, pw := io.Pipe()
	cmd.Stdin = pr
	go func() {
		tw := tar.NewWriter(pw)
		err := fill(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v: %s", tag, err, out)
	}
}

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
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return nil
}
