#!/usr/bin/env bash
# embers-cli upload benchmark (issue 17): starts `embers -target=all` on free ports with a fresh
# filesystem bucket, writes N small profiles (copies of a Go CPU pprof, 1.2 KB gzipped) into a
# directory, and times `embers-cli upload DIR` against the server. Prints files/s, the CLI's and
# the server's CPU per file, and checks every file was accepted. Numbers go to docs/performance.md
# ("embers-cli (issue 17)").
#
#   scripts/cli_upload_bench.sh [build-dir]
#
# Knobs (environment): CB_FILES=10000  CB_CONCURRENCY=16  CB_RUNS=3
#   CB_FILE   the profile copied (../shared/testdata/pyroscope/pprof/go_cpu_tiny.pb.gz)
#   EMBERS_ARGS   extra server flags
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
bin="$build/src/cmd/embers/embers"
cli="$build/src/cmd/cli/embers-cli"
for b in "$bin" "$cli"; do
  [ -x "$b" ] || { echo "missing $b: cmake --build $build --target embers embers-cli" >&2; exit 1; }
done
file=${CB_FILE:-${EMBERS_TESTDATA:-../shared/testdata}/pyroscope/pprof/go_cpu_tiny.pb.gz}
[ -r "$file" ] || { echo "missing $file (CB_FILE)" >&2; exit 1; }
files=${CB_FILES:-10000}
concurrency=${CB_CONCURRENCY:-16}
runs=${CB_RUNS:-3}

# shellcheck source=lib/bench_server.sh
. scripts/lib/bench_server.sh
hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
cleanup() {
  stop_bench_server
  rm -rf "$tmp"
  return 0
}
trap cleanup EXIT
# The test profile is from 2019: no reject-older-than; no rate limit, so it does not cap the rate.
# shellcheck disable=SC2086  # EMBERS_ARGS is a list of flags
start_bench_server "$bin" "$tmp" -validation.reject-older-than=0 \
  -distributor.ingestion-rate-limit-mb=0 ${EMBERS_ARGS:-}
pid=$BENCH_PID
port=$BENCH_PORT

mkdir -p "$tmp/profiles"
for i in $(seq -w 1 "$files"); do cp "$file" "$tmp/profiles/p$i.pb.gz"; done
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== $(date -u +%FT%TZ): $files files of $(stat -c %s "$file") B, --concurrency $concurrency, $runs runs"
for run in $(seq "$runs"); do
  t0=$(ticks "$pid")
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$tmp/cli.time" \
    "$cli" upload "$tmp/profiles" --url "http://127.0.0.1:$port" -c "$concurrency" -s bench -q \
    2>"$tmp/cli.err" || { cat "$tmp/cli.err" >&2; exit 1; }
  end=$(date +%s.%N)
  t1=$(ticks "$pid")
  grep -q "uploaded $files of $files files" "$tmp/cli.err" || { cat "$tmp/cli.err" >&2; exit 1; }
  read -r cu cs <"$tmp/cli.time"
  awk -v n="$files" -v s="$start" -v e="$end" -v st="$((t1 - t0))" -v hz="$hz" -v cu="$cu" -v cs="$cs" -v r="$run" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { w = e - s; printf "run %d: %.2f s, %.0f files/s; CPU per file: cli %.0f us, server %.0f us (load %s)\n", r, w, n / w, (cu + cs) * 1e6 / n, st / hz * 1e6 / n, load }'
done
