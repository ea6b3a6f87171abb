#!/usr/bin/env bash
# Prints the rack version to stamp into binaries: the UTC time of the current
# commit as YYYYMMDDhhmmss (the shape of upstream Convox rack versions), or
# "dev" outside a git checkout. VERSION in the environment wins.
set -euo pipefail
if [ -n "${VERSION:-}" ]; then
	echo "$VERSION"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
TZ=UTC git -C "$here" log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null || echo dev
