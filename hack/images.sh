#!/usr/bin/env bash
# Builds the build task images (images/ec2, images/fargate) with BuildKit and
# pushes them to REGISTRY as REGISTRY/convox-build:ec2 and :fargate.
# Needs BUILDKIT_HOST (a buildkitd whose docker.io resolves debian and busybox,
# e.g. through a mirror) or, without it, `docker buildx` on the current builder.
set -euo pipefail
registry=${1:?usage: hack/images.sh REGISTRY}
here=$(cd "$(dirname "$0")/.." && pwd)
tools=${CONVOX_TOOLS:-$HOME/.cache/convox-rack-tools}
docker_cli=${DOCKER_CLI:-$(command -v docker)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/build" ./cmd/build)

for image in ec2 fargate; do
	ctx="$work/$image"
	mkdir -p "$ctx"
	cp "$here/images/$image/Dockerfile" "$ctx/"
	cp "$work/build" "$ctx/build"
	case $image in
	ec2)
		cp -L "$docker_cli" "$ctx/docker"
		cp -L "$tools/bin/docker-buildx" "$ctx/docker-buildx"
		;;
	fargate)
		cp -L "$tools/bin/executor" "$ctx/executor"
		echo "hosts: files dns" >"$ctx/nsswitch.conf"
		;;
	esac
	ref="$registry/convox-build:$image"
	echo "images: building $ref"
	if [ -n "${BUILDKIT_HOST:-}" ]; then
		buildctl=${BUILDCTL:-$tools/bin/buildctl}
		"$buildctl" --addr "$BUILDKIT_HOST" build --frontend dockerfile.v0 \
			--local context="$ctx" --local dockerfile="$ctx" \
			--output "type=image,name=$ref,push=true" --progress plain
	else
		docker buildx build --progress plain --push -t "$ref" "$ctx"
	fi
done
