#!/usr/bin/env bash
# Installs or builds the pinned tools once into a version-keyed cache outside the
# repo, and checks the tools the machine must provide. A second run takes seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

tools=${CONVOX_TOOLS:-$HOME/.cache/convox-rack-tools}
bin="$tools/bin"
mkdir -p "$bin"
missing=()

log() { printf 'tools: %s\n' "$*"; }

# go_tool builds one Go command in a scratch module; the result is keyed by version.
go_tool() { # module version pkg name
	local module=$1 version=$2 pkg=$3 name=$4
	local dir="$tools/$name-$version"
	if [ -x "$dir/$name" ]; then
		ln -sf "$dir/$name" "$bin/$name"
		return
	fi
	log "building $name $version (once; a few minutes)"
	local scratch
	scratch=$(mktemp -d)
	(
		cd "$scratch"
		go mod init scratch >/dev/null 2>&1
		# Getting the package (not just the module) records the sums of
		# everything it imports, which a fresh module cache does not have.
		GOFLAGS=-mod=mod go get "$pkg@$version" >/dev/null
		CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$scratch/out/$name" "$pkg"
	)
	mkdir -p "$dir"
	mv "$scratch/out/$name" "$dir/$name"
	rm -rf "$scratch"
	ln -sf "$dir/$name" "$bin/$name"
}

apt_tool() { # command package
	local cmd=$1 pkg=$2
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			log "installing Debian package $pkg"
			if [ ! -f "$tools/.apt-updated" ]; then
				apt-get update -qq >/dev/null && touch "$tools/.apt-updated"
			fi
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
		else
			missing+=("$cmd (Debian package $pkg; install it as root)")
			return
		fi
	fi
	local path
	path=$(command -v "$cmd" 2>/dev/null || echo "/usr/sbin/$cmd")
	ln -sf "$path" "$bin/$cmd"
}

apt_tool runc runc
apt_tool busybox busybox-static
apt_tool debootstrap debootstrap

go_tool github.com/moby/buildkit "$BUILDKIT_VERSION" github.com/moby/buildkit/cmd/buildkitd buildkitd
go_tool github.com/moby/buildkit "$BUILDKIT_VERSION" github.com/moby/buildkit/cmd/buildctl buildctl
go_tool github.com/docker/buildx "$BUILDX_VERSION" github.com/docker/buildx/cmd/buildx docker-buildx
go_tool github.com/GoogleContainerTools/kaniko "$KANIKO_VERSION" github.com/GoogleContainerTools/kaniko/cmd/executor executor
go_tool honnef.co/go/tools "$STATICCHECK_VERSION" honnef.co/go/tools/cmd/staticcheck staticcheck

# A docker CLI plugin directory: DOCKER_CONFIG=$tools/docker gives `docker buildx`.
mkdir -p "$tools/docker/cli-plugins"
ln -sf "$bin/docker-buildx" "$tools/docker/cli-plugins/docker-buildx"

# The Debian base image, as a rootfs tarball: built once with debootstrap.
rootfs="$tools/debian-$DEBIAN_SUITE-minbase-r$DEBIAN_ROOTFS_REV.tar"
if [ ! -s "$rootfs" ] && [ -x "$bin/debootstrap" ]; then
	if [ "$(id -u)" = 0 ]; then
		log "debootstrap $DEBIAN_SUITE minbase (once)"
		target=$(mktemp -d)
		mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
		[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
		[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
		"$bin/debootstrap" --variant=minbase "$DEBIAN_SUITE" "$target" "$mirror" >"$tools/debootstrap.log" 2>&1 ||
			{ log "debootstrap failed, see $tools/debootstrap.log"; exit 1; }
		rm -rf "$target"/var/cache/apt/archives/*.deb "$target"/var/lib/apt/lists/*
		# mktemp made the root 0700; Debian's image has a 0755 root, and kaniko
		# copies the root's mode into a "/" entry of every layer it writes
		chmod 0755 "$target"
		tar --numeric-owner -C "$target" -cf "$rootfs.tmp" .
		mv "$rootfs.tmp" "$rootfs"
		rm -rf "$target"
	else
		missing+=("debian rootfs (debootstrap needs root)")
	fi
fi
ln -sf "$rootfs" "$tools/debian-rootfs.tar"
# The same rootfs compressed once: the base image layer, pushed as it is.
if [ -s "$rootfs" ] && [ ! -s "$rootfs.gz" ]; then
	gzip -1 -c "$rootfs" >"$rootfs.gz.tmp" && mv "$rootfs.gz.tmp" "$rootfs.gz"
fi
ln -sf "$rootfs.gz" "$tools/debian-rootfs.tar.gz"

for cmd in moto_server cfn-lint docker python3; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if command -v docker >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
	missing+=("a running Docker engine (docker info failed)")
fi

if [ ${#missing[@]} -gt 0 ]; then
	for m in "${missing[@]}"; do log "MISSING: $m"; done
	exit 1
fi
log "ready in $tools"
