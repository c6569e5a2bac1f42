#!/usr/bin/env bash
# Query-path benchmark (issue 6), end to end: starts `embers -target=all` on free ports with a fresh
# filesystem bucket, pushes the data set through the write path (embers-loadgen -mode=dataset:
# 1 service x 20 series x 6 h, one Go CPU profile per 15 s per series = 28,800 profiles with
# perturbed values, time-ordered), times flame graphs over the last 6 h and 1 h and SelectSeries
# over 6 h (embers-loadgen -mode=query, every answer checked against the data set's totals), then
# stops the server and times `go tool pprof -proto` merging the same raw profiles (6 h and 1 h)
# for the ratio. Numbers go to docs/performance.md ("Query path (issue 6)").
#
#   scripts/query_bench.sh [build-dir]
#
# Knobs (environment):
#   QB_FILE       pprof file of the data set (../shared/testdata/pyroscope/pprof/go_cpu_truncated_stacks.pb.gz)
#   QB_SERIES=20 QB_SPAN=6h QB_INTERVAL=15s QB_VARIANTS=16 QB_CONNECTIONS=256
#   QB_RUNS=20    timed runs of each query
#   QB_ROUNDS=1   query rounds (repeat when the machine is busy; each round prints the load)
#   QB_PERF=0     1: `perf record -g -p <server>` during the last round; prints the top symbols
#   QB_GO=1       0: skip the `go tool pprof` baseline (and writing the raw profiles)
#   QB_COMPACTION_WAIT=1  0: query at once instead of waiting for compaction to catch up
#   QB_S3=0       1: the bucket is a real s3rver started for the run (scripts/lib/s3rver.sh)
#   EMBERS_ARGS   extra server flags
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
bin="$build/src/cmd/embers/embers"
loadgen="$build/src/cmd/loadgen/embers-loadgen"
for b in "$bin" "$loadgen"; do
  [ -x "$b" ] || { echo "missing $b: cmake --build $build --target embers embers-loadgen" >&2; exit 1; }
done
file=${QB_FILE:-${EMBERS_TESTDATA:-../shared/testdata}/pyroscope/pprof/go_cpu_truncated_stacks.pb.gz}
[ -r "$file" ] || { echo "missing $file (QB_FILE)" >&2; exit 1; }
series=${QB_SERIES:-20}
span=${QB_SPAN:-6h}
interval=${QB_INTERVAL:-15s}
runs=${QB_RUNS:-20}
rounds=${QB_ROUNDS:-1}
go_baseline=${QB_GO:-1}
command -v go >/dev/null || go_baseline=0

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
seconds() { # Go-style duration with one unit (6h, 90m, 15s) -> seconds
  case $1 in
    *h) echo $((${1%h} * 3600)) ;; *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;;
    *) echo "unsupported duration $1" >&2; exit 2 ;;
  esac
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process
hz=$(getconf CLK_TCK)

tmp=$(mktemp -d)
port=$(free_port)
gport=$(free_port)
rport=$(free_port)
pid=""
S3RVER_PID=""
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [ -n "$S3RVER_PID" ] && { kill "$S3RVER_PID" 2>/dev/null; wait "$S3RVER_PID" 2>/dev/null; }
  rm -rf "$tmp"
  return 0
}
trap cleanup EXIT

storage_flags="-storage.backend=filesystem -storage.filesystem.dir=$tmp/bucket"
objects() { find "$tmp/bucket" -name block.bin | wc -l; }
if [ "${QB_S3:-0}" = 1 ]; then
  # shellcheck source=lib/s3rver.sh
  . scripts/lib/s3rver.sh
  start_s3rver "$tmp/bucket" "$tmp/s3rver.log"
  storage_flags=$S3_STORAGE_FLAGS
  objects() { find "$tmp/bucket" -name '*._S3rver_object' | wc -l; }
fi
# Profiles are up to 6 h old: no reject-older-than; no ingestion rate limit so that it does not cap
# the ingest rate reported below.
# shellcheck disable=SC2086  # EMBERS_ARGS and storage_flags are lists of flags
"$bin" -target=all -server.http-listen-address=127.0.0.1 -server.http-listen-port="$port" \
  -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port="$gport" \
  -server.internal-grpc-listen-port=0 \
  -metastore.raft.bind-address=127.0.0.1:"$rport" \
  $storage_flags \
  -metastore.data-dir="$tmp/metastore" \
  -validation.reject-older-than=0 -distributor.ingestion-rate-limit-mb=0 \
  -log.level=warn ${EMBERS_ARGS:-} 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
curl -sf "127.0.0.1:$port/ready" >/dev/null || { echo "embers did not become ready:" >&2; cat "$tmp/server.log" >&2; exit 1; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== $(date -u +%FT%TZ), embers pid $pid on 127.0.0.1:$port, data set $(basename "$file"): $series series x $span every $interval"

# --- 1. Ingest through the write path.
write_dir=()
[ "$go_baseline" = 1 ] && write_dir=(-write-dir="$tmp/profiles")
echo "== ingest (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
t0=$(ticks "$pid")
"$loadgen" -mode=dataset -url="http://127.0.0.1:$port" -quiet -connections="${QB_CONNECTIONS:-256}" \
  -file="$file" -series="$series" -span="$span" -interval="$interval" \
  -variants="${QB_VARIANTS:-16}" -manifest="$tmp/manifest" "${write_dir[@]}" | tee "$tmp/ingest.out"
t1=$(ticks "$pid")
profiles=$(sed -n 's/.*profiles_total=\([0-9]*\).*/\1/p' "$tmp/ingest.out")
awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$profiles" \
  'BEGIN { printf "server CPU during ingest: %.1f s, %.2f ms per profile\n", t / hz, t / hz * 1e3 / n }'
echo "== bucket ($(cut -d' ' -f1 <<<"$storage_flags" | cut -d= -f2)): $(objects) objects, $(du -sh "$tmp/bucket" | cut -f1); server RSS $(awk '/^VmRSS:/{print $2/1024" MiB"}' "/proc/$pid/status")"

# --- 1b. Compaction catches up: no segment left uncompacted, no job queued or running, and the
# replaced objects deleted (run with -compaction.cleanup-delay short enough). Levels 1 and 2 keep
# the blocks that are fewer than a job's worth (they wait for more, or for their batch's age).
if [ "${QB_COMPACTION_WAIT:-1}" = 1 ]; then
  t0=$(date +%s.%N)
  compaction_state() {
    curl -sf "127.0.0.1:$port/metastore/status" | python3 -c '
import json, sys
c = json.load(sys.stdin)["compaction"]
l = c["levels"]
busy = l[0]["blocks"] + sum(x["jobs_queued"] + x["jobs_running"] for x in l) + c["tombstones"]
print(busy, " ".join("L%d=%d" % (x["level"], x["blocks"]) for x in l))'
  }
  for _ in $(seq 3600); do
    read -r busy levels < <(compaction_state)
    [ "$busy" = 0 ] && break
    sleep 0.5
  done
  echo "== compaction caught up after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" \
    "(ingest already overlapped it): index $levels; bucket $(objects) objects, $(du -sh "$tmp/bucket" | cut -f1)"
fi

# --- 2. Queries (the first round waits until the data set is queryable).
for round in $(seq "$rounds"); do
  echo "== queries, round $round of $rounds (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  perf_pid=""
  if [ "${QB_PERF:-0}" = 1 ] && [ "$round" = "$rounds" ]; then
    # DWARF call graphs: the build keeps no frame pointers; a low frequency keeps the data small.
    perf record -q -F 250 --call-graph dwarf,16384 -p "$pid" -o "$tmp/perf.data" 2>"$tmp/perf.log" &
    perf_pid=$!
    sleep 0.5
  fi
  t0=$(ticks "$pid")
  "$loadgen" -mode=query -url="http://127.0.0.1:$port" -manifest="$tmp/manifest" -runs="$runs" \
    -windows="$span,1h" -series-step="$interval" -server-pid="$pid" | tee "$tmp/query.$round.out"
  t1=$(ticks "$pid")
  echo "server CPU during the round: $(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { printf "%.1f s", t / hz }'); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null || true
    echo "== perf: server self time by symbol, round $round"
    perf report -i "$tmp/perf.data" --no-children -g none --sort symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]-]+$//' | cut -c1-160 | head -30 || true
    echo "== perf: inclusive time (self + callees) of the server's own functions"
    perf report -i "$tmp/perf.data" --children -g none --sort symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+% +[0-9.]+% .*embers::' | sed -E 's/[[:space:]-]+$//' | cut -c1-160 |
      head -25 || true
  fi
done
# How the query path read the bucket: requests by operation, the read cache, hedged reads.
curl -sf "127.0.0.1:$port/metrics" | awk '
  /^embers_objstore_operations_total\{/ && /operation="get_range"|operation="get"/ { reads += $NF }
  /^embers_objstore_read_cache_lookups_total\{/ { r = $0; sub(/.*result="/, "", r); sub(/".*/, "", r); cache[r] += $NF }
  /^embers_objstore_hedged_reads_total\{/ { o = $0; sub(/.*outcome="/, "", o); sub(/".*/, "", o); hedged[o] += $NF }
  END {
    printf "== bucket reads (whole run, compaction included): %d; read cache: %d hits, %d misses, %d bypassed",
      reads, cache["hit"], cache["miss"], cache["bypass"]
    line = ""; for (o in hedged) line = line sprintf(" %s %d", o, hedged[o])
    print (line == "" ? "" : "; hedged reads:" line)
  }' || true
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""
if grep -q 'level=error' "$tmp/server.log"; then
  echo "== server errors (first 5):"
  grep 'level=error' "$tmp/server.log" | head -5
fi

# --- 3. go tool pprof -proto over the same raw profiles (the server is stopped: it has the cores).
[ "$go_baseline" = 1 ] || exit 0
per_hour=$((3600 / $(seconds "$interval") * series))
result=$(grep '^RESULT' "$tmp/query.1.out")
p50() { sed -n "s/.*flamegraph_$1_p50_ms=\([0-9.]*\).*/\1/p" <<<"$result"; }
cd "$tmp/profiles"
for window in 1h "$span"; do # the shorter first: the longer can take many minutes
  if [ "$window" = 1h ]; then
    mapfile -t files < <(ls | tail -n "$per_hour")
  else
    mapfile -t files < <(ls)
  fi
  echo "== go tool pprof -proto over the $window profiles ($(go version | cut -d' ' -f3), ${#files[@]} files, $(du -ch "${files[@]}" | tail -1 | cut -f1) gzip'd; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  # Short relative names keep the command line far below ARG_MAX (28,800 x 12 bytes).
  /usr/bin/time -f "%e %M" -o "$tmp/go.time" \
    go tool pprof -proto -symbolize=none "${files[@]}" >"$tmp/merged.pb" 2>"$tmp/go.err" ||
    { cat "$tmp/go.err" >&2; exit 1; }
  read -r secs rss <"$tmp/go.time"
  ours=$(p50 "$window")
  awk -v s="$secs" -v rss="$rss" -v ours="$ours" -v w="$window" -v sz="$(stat -c %s "$tmp/merged.pb")" 'BEGIN {
    printf "go tool pprof -proto: %.1f s (max RSS %.0f MiB, output %.0f KB); embers flame graph %s p50 %s ms: %.0fx faster\n",
      s, rss / 1024, sz / 1e3, w, ours, s * 1000 / ours }'
  go tool pprof -top -nodecount=1 -sample_index=cpu "$tmp/merged.pb" 2>/dev/null | grep -m1 'total' || true
done
