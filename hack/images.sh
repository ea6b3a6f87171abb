#!/usr/bin/env bash
# Builds the rack's images and pushes them to REGISTRY/convox-build:
#   :api       the rack API (cmd/rack, PROVIDER=aws), the stack's ECS service
#   :ec2       the ec2 build task (cmd/build, the docker CLI, the buildx plugin)
#   :fargate   the fargate build task (cmd/build, the kaniko executor)
#   :buildkit  the BuildKit of the ec2 method's cache builder
# and prints the ImageRegistry value the rack stack takes.
# Needs BUILDKIT_HOST (a buildkitd whose docker.io resolves debian and busybox,
# e.g. through a mirror) or, without it, `docker buildx` on the current builder.
# VERSION (default: hack/version.sh) is stamped into the binaries.
set -euo pipefail
registry=${1:?usage: hack/images.sh REGISTRY}
here=$(cd "$(dirname "$0")/.." && pwd)
tools=${CONVOX_TOOLS:-$HOME/.cache/convox-rack-tools}
docker_cli=${DOCKER_CLI:-$(command -v docker)}
certs=${CA_CERTIFICATES:-/etc/ssl/certs/ca-certificates.crt}
version=$(bash "$here/hack/version.sh")
ldflags="-s -w -X github.com/convox/rack/pkg/version.Version=$version"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$work/build" ./cmd/build)
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$work/rack" ./cmd/rack)

for image in api ec2 fargate buildkit; do
	ctx="$work/$image"
	mkdir -p "$ctx"
	cp "$here/images/$image/Dockerfile" "$ctx/"
	case $image in
	api)
		cp "$work/rack" "$ctx/rack"
		cp -L "$certs" "$ctx/ca-certificates.crt"
		;;
	ec2)
		cp "$work/build" "$ctx/build"
		cp -L "$docker_cli" "$ctx/docker"
		cp -L "$tools/bin/docker-buildx" "$ctx/docker-buildx"
		cp -L "$certs" "$ctx/ca-certificates.crt"
		;;
	fargate)
		cp "$work/build" "$ctx/build"
		cp -L "$tools/bin/executor" "$ctx/executor"
		cp -L "$certs" "$ctx/ca-certificates.crt"
		echo "hosts: files dns" >"$ctx/nsswitch.conf"
		;;
	buildkit)
		cp -L "$tools/bin/buildkitd" "$tools/bin/buildctl" "$tools/bin/runc" "$ctx/"
		echo "# replaced by the builder's own configuration" >"$ctx/buildkitd.toml"
		;;
	esac
	ref="$registry/convox-build:$image"
	echo "images: building $ref ($version)"
	if [ -n "${BUILDKIT_HOST:-}" ]; then
		buildctl=${BUILDCTL:-$tools/bin/buildctl}
		"$buildctl" --addr "$BUILDKIT_HOST" build --frontend dockerfile.v0 \
			--local context="$ctx" --local dockerfile="$ctx" \
			--output "type=image,name=$ref,push=true" --progress plain
	else
		docker buildx build --progress plain --push -t "$ref" "$ctx"
	fi
done
echo "images: pushed; the rack stack takes"
echo "ImageRegistry=$registry"
