#!/usr/bin/env bash
# `make run`: start a local rack, build the example app cold and again on a
# fresh builder with BuildCache=Yes, print both timings and the cache summary,
# then leave the rack running until Ctrl-C, which stops everything started here.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

tools=${CONVOX_TOOLS:-$HOME/.cache/convox-rack-tools}
app=${APP:-demo}
example=${EXAMPLE:-examples/cached-deps}
port=${PORT:-5443}
work=$(mktemp -d "${TMPDIR:-/tmp}/convox-run.XXXXXX")
data=${RACK_DATA:-$work/data}
password=${RACK_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
rack_pid=""

say() { printf '\n==> %s\n' "$*"; }

stop() {
	trap - INT TERM EXIT
	if [ -n "$rack_pid" ] && kill -0 "$rack_pid" 2>/dev/null; then
		say "Stopping the rack (pid $rack_pid)"
		kill -TERM "$rack_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$rack_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$rack_pid" 2>/dev/null || true
	fi
	echo "Rack data kept in $data (delete it when done)."
}
trap stop EXIT
trap 'exit 130' INT TERM

# 1. Tools: installed once into a cache outside the repo.
need=(buildkitd buildctl runc executor docker-buildx busybox)
for t in "${need[@]}"; do
	if [ ! -x "$tools/bin/$t" ] || [ ! -s "$tools/debian-rootfs.tar" ]; then
		say "Installing tools (make tools)"
		make tools
		break
	fi
done

# 2. Binaries: the rack, the CLI and the static build task beside the rack.
say "Building the rack, the convox CLI and the build task"
bin="$work/bin"
mkdir -p "$bin"
go build -ldflags "-X github.com/convox/rack/pkg/version.Version=$(bash "$here/version.sh")" -o "$bin/rack" ./cmd/rack
go build -o "$bin/convox" ./cmd/convox
CGO_ENABLED=0 go build -trimpath -o "$bin/build" ./cmd/build
export PATH="$bin:$PATH"

# 3. The rack, in the background; its log goes to a file.
say "Starting the local rack on 127.0.0.1:$port (data in $data)"
mkdir -p "$data"
RACK_PASSWORD=$password RACK_DATA=$data PORT=$port PROVIDER=local \
	"$bin/rack" >"$work/rack.log" 2>&1 &
rack_pid=$!
export RACK_URL="http://convox:$password@127.0.0.1:$port"
# the first start on a Docker engine also makes the BuildKit and kaniko images there
for _ in $(seq 1 900); do
	if convox rack >/dev/null 2>&1; then break; fi
	if ! kill -0 "$rack_pid" 2>/dev/null; then
		cat "$work/rack.log"
		echo "ERROR: the rack exited; its log is above" >&2
		exit 1
	fi
	sleep 0.2
done
convox rack

# 4. The example app and the persistent cache.
say "Creating app $app and turning the build cache on"
convox apps create "$app" || true
convox rack params set BuildCache=Yes BuildEphemeral=Yes
convox rack params -g build

# 5. A cold build; the source with convox.yml changed (no step reads it) on a
# brand-new builder, every step from the cache; then the same source again,
# which reuses the build before it without running a builder.
src="$work/src"
cp -a "$example" "$src"
timed_build() { # label -> sets build_id and seconds
	local start end
	start=$(date +%s.%N)
	convox build "$src" -a "$app" --id >/dev/null # --id prints the release id
	end=$(date +%s.%N)
	build_id=$(convox builds -a "$app" | awk 'NR == 2 { print $1 }')
	seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	echo "$1 build $build_id took ${seconds}s"
}
say "Cold build (empty cache, fresh builder)"
timed_build Cold
cold_id=$build_id cold_s=$seconds
say "Warm build (convox.yml changed; fresh builder, layers from ${RACK_NAME:-convox}-build-cache)"
printf '# warm build\n' >>"$src/convox.yml"
timed_build Warm
warm_id=$build_id warm_s=$seconds
say "Unchanged build (the same inputs: the warm build's images are reused)"
timed_build Unchanged
same_id=$build_id same_s=$seconds

say "Results"
printf '  cold build %s: %ss\n  warm build %s: %ss\n  unchanged build %s: %ss\n' \
	"$cold_id" "$cold_s" "$warm_id" "$warm_s" "$same_id" "$same_s"
awk -v c="$cold_s" -v w="$warm_s" 'BEGIN { printf "  warm/cold: %.3f\n", w / c }'
convox builds info "$warm_id" -a "$app"
convox builds info "$same_id" -a "$app"
convox builds -a "$app"

cat <<MSG

The rack keeps running. In another shell:

  export RACK_URL=$RACK_URL PATH=$bin:\$PATH
  convox rack params                       # BuildCache, BuildCacheCleanup, BuildCacheRetentionDays...
  convox build $example -a $app            # another cached build
  convox build $example -a $app --no-cache # rebuild everything, refresh the cache (never reused)
  convox builds -a $app ; convox builds logs $warm_id -a $app
  convox rack params set BuildMethod=fargate   # kaniko in a fresh container per build
  convox rack params set BuildCache=No         # deletes the cache repository

Rack log: $work/rack.log. Press Ctrl-C to stop the rack.
MSG
wait "$rack_pid"
