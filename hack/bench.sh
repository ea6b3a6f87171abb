#!/usr/bin/env bash
# make bench: every scenario BENCH_RUNS times (default 3) on fresh builders;
# prints the table and writes bench/results.json and bench/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/tools.sh
go test -tags bench -run '^TestBench$' -timeout 150m -count=1 -v ./bench
