#!/usr/bin/env bash
# Runs the benchmarks and prints their numbers (copy them into docs/performance.md with the machine
# and the load average printed before each part: the VM's cores are shared).
#   scripts/bench.sh [build-dir]
#   BENCH_ONLY=pprof scripts/bench.sh [build-dir]   only the pprof decoder and Go's parser
# - every Google Benchmark binary under <build-dir>/bench (matching BENCH_ONLY when set)
# - Go's pprof parser on the same files as pprof_decode_bench
# - the query benchmark, scripts/query_bench.sh (issue 6; QUERY_BENCH=0 skips it)
# - wrk against GET /ready of a freshly started embers (64 connections, 2 threads, 10 s), unless
#   BENCH_ONLY is set
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/src/cmd/embers/embers"
only=${BENCH_ONLY:-}
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

if [ -d "$build/bench" ]; then
  for b in $(find "$build/bench" -maxdepth 1 -type f -executable -name "*${only}*_bench" | sort); do
    echo "== $(basename "$b")"
    load
    "$b" --benchmark_min_time=1
  done
fi

# Go's pprof parser on the same files, for the ratio issue 3 asks for (same run, same machine).
if [[ -z "$only" || pprof == *"$only"* ]] && command -v go >/dev/null &&
  [ -d /usr/share/gocode/src/github.com/google/pprof ]; then
  td="${EMBERS_TESTDATA:-../shared/testdata}/pyroscope/pprof"
  gotmp=$(mktemp -d)
  echo "== Go github.com/google/pprof/profile.ParseData (uncompressed input)"
  load
  GO111MODULE=off GOPATH="$PWD/bench/go:/usr/share/gocode" GOCACHE="$gotmp/cache" \
    go build -o "$gotmp/pprofparse" pprofparse &&
    "$gotmp/pprofparse" "$td/go_heap_large.pb.gz" "$td/go_heap_alloc_objects_big.pb.gz"
  rm -rf "$gotmp"
fi

# The query path end to end (issue 6): ingest 28,800 profiles, time flame graphs and SelectSeries,
# `go tool pprof -proto` on the same profiles. Takes several minutes; QUERY_BENCH=0 skips it,
# BENCH_ONLY=query runs only it.
if [[ -z "$only" || query == *"$only"* ]] && [ "${QUERY_BENCH:-1}" = 1 ] &&
  [ -x "$build/src/cmd/loadgen/embers-loadgen" ]; then
  echo "== query benchmark (scripts/query_bench.sh)"
  load
  scripts/query_bench.sh "$build"
fi

[ -z "$only" ] || exit 0

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh --test" >&2; exit 1; }
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 14040)
gport=$((port + 1))
"$bin" -server.http-listen-address=127.0.0.1 -server.http-listen-port="$port" \
  -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port="$gport" \
  -server.internal-grpc-listen-port=0 \
  -storage.filesystem.dir="$tmp/bucket" -metastore.data-dir="$tmp/metastore" \
  -metastore.raft.bind-address=127.0.0.1:$((port + 2)) -log.level=warn 2>"$tmp/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
echo "== wrk GET /ready, 64 connections, 2 threads, 10 s"
wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$port/ready"
echo "server threads: $(awk '/^Threads:/{print $2}' /proc/$pid/status), RSS: $(awk '/^VmRSS:/{print $2" "$3}' /proc/$pid/status)"
