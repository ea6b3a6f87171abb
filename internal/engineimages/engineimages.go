// Package engineimages makes, on a Docker engine that cannot pull from a
// public registry, the two images a rack builds with there: a BuildKit image
// for buildx docker-container builders (the EC2 host path) and a kaniko
// runner for fargate builds. Both are `docker import`s of pinned files, named
// by a hash of their content so they are made once and reused.
package engineimages

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// Recipe versions: bump one to rebuild that image.
const (
	buildkitRev = "1"
	kanikoRev   = "1"
)

// Sources are the pinned files the images are made of.
type Sources struct {
	// Docker is the docker CLI of the engine.
	Docker string
	// DebianRootfs is the uncompressed debootstrap rootfs tarball.
	DebianRootfs string
	// Buildkitd, Buildctl and Runc go into the BuildKit image.
	Buildkitd, Buildctl, Runc string
	// Executor (kaniko), BuildBinary (cmd/build) and Busybox go into the runner.
	Executor, BuildBinary, Busybox string
}

// BuildKit returns the tag of the BuildKit image, importing it if needed.
func BuildKit(src Sources) (string, error) {
	bins := map[string]string{
		"usr/local/bin/buildkitd": src.Buildkitd,
		"usr/local/bin/buildctl":  src.Buildctl,
		"usr/bin/runc":            src.Runc,
	}
	key, err := contentKey(buildkitRev, src.DebianRootfs, bins)
	if err != nil {
		return "", err
	}
	tag := "convox-rack-buildkit:" + key
	changes := []string{
		`ENTRYPOINT ["buildkitd"]`,
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"VOLUME /var/lib/buildkit",
	}
	return tag, importImage(src.Docker, tag, changes, func(tw *tar.Writer) error {
		if err := copyTar(tw, src.DebianRootfs); err != nil {
			return err
		}
		if err := dirs(tw, 0o755, "etc/buildkit/", "var/lib/buildkit/"); err != nil {
			return err
		}
		return addFiles(tw, bins)
	})
}

// Kaniko returns the tag of the fargate runner image, importing it if needed:
// kaniko laid out as kaniko expects (/kaniko/executor, DOCKER_CONFIG=/kaniko/.docker),
// the build binary at /kaniko/build and busybox in /busybox.
func Kaniko(src Sources) (string, error) {
	bins := map[string]string{
		"kaniko/executor": src.Executor,
		"kaniko/build":    src.BuildBinary,
		"busybox/busybox": src.Busybox,
	}
	key, err := contentKey(kanikoRev, "", bins)
	if err != nil {
		return "", err
	}
	tag := "convox-rack-kaniko:" + key
	changes := []string{
		`ENTRYPOINT ["/kaniko/executor"]`,
		"ENV PATH=/usr/local/bin:/kaniko:/busybox",
		"ENV DOCKER_CONFIG=/kaniko/.docker/",
		"ENV SSL_CERT_DIR=/kaniko/ssl/certs",
		"ENV HOME=/root",
		"ENV USER=root",
		"WORKDIR /workspace",
	}
	return tag, importImage(src.Docker, tag, changes, func(tw *tar.Writer) error {
		if err := dirs(tw, 0o755, "kaniko/", "kaniko/.docker/", "kaniko/ssl/", "kaniko/ssl/certs/", "busybox/", "workspace/", "root/", "etc/"); err != nil {
			return err
		}
		if err := dirs(tw, 0o1777, "tmp/"); err != nil {
			return err
		}
		for _, applet := range []string{"sh", "ls", "cat", "echo", "mkdir", "rm", "cp", "env", "find", "sleep", "grep", "sed", "tar", "wc"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "busybox/" + applet, Linkname: "busybox", Mode: 0o777}); err != nil {
				return err
			}
		}
		if err := addData(tw, "etc/nsswitch.conf", []byte("hosts: files dns\n"), 0o644); err != nil {
			return err
		}
		files := map[string]string{}
		for k, v := range bins {
			files[k] = v
		}
		if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
			files["kaniko/ssl/certs/ca-certificates.crt"] = "/etc/ssl/certs/ca-certificates.crt"
		}
		return addFiles(tw, files)
	})
}

// contentKey hashes a recipe revision and the content of the files going into an image.
func contentKey(rev, rootfs string, files map[string]string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, rev)
	inputs := map[string]string{"rootfs": rootfs}
	for dst, src := range files {
		inputs[dst] = src
	}
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src := inputs[n]
		if src == "" {
			if n == "rootfs" {
				continue
			}
			return "", fmt.Errorf("image input %s: no file given", n)
		}
		f, err := os.Open(src)
		if err != nil {
			return "", fmt.Errorf("image input %s: %w", n, err)
		}
		fmt.Fprintln(h, n)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", src, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// importImage pipes a tar written by fill into `docker import` unless tag
// exists; a new import then removes the stale tags of the same image.
func importImage(docker, tag string, changes []string, fill func(*tar.Writer) error) error {
	if exec.Command(docker, "image", "inspect", tag).Run() == nil {
		return nil
	}
	if err := importTar(docker, tag, changes, fill); err != nil {
		return err
	}
	repo, _, _ := strings.Cut(tag, ":")
	_, err := pruneStale(docker, repo, tag, staleAfter)
	return err
}

// importTar runs `docker import` on the tar fill writes.
func importTar(docker, tag string, changes []string, fill func(*tar.Writer) error) error {
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
		return fmt.Errorf("docker import %s: %w: %s", tag, err, out)
	}
	return nil
}
