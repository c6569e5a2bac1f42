#!/usr/bin/env bash
# Ingest scaling of a microservices cluster (issue 18): starts scripts/cluster.sh's local cluster
# (membership discovery), keeps W segment-writers (removing the others gracefully), runs
# embers-loadgen against the distributors for D seconds, and reports profiles/s and the CPU every
# component kind spent per acknowledged profile (from /proc/<pid>/stat of each process).
#
#   scripts/cluster_ingest_bench.sh [-b build-dir] [-w writers] [-d seconds] [-- loadgen flags...]
#   scripts/cluster_ingest_bench.sh -w 1 -d 30 -- -connections=1000 -rate=2000
#   scripts/cluster_ingest_bench.sh -w 3 -d 30 -- -connections=1000 -rate=2000
#
# On a machine with fewer cores than processes the interesting figure is CPU per profile, not
# profiles/s: every process shares the same cores. The cluster is stopped and its directory
# removed at the end. Numbers go to docs/performance.md ("Cluster").
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
writers=3
duration=30
while [ $# -gt 0 ]; do
  case $1 in
    -b) build=$2; shift 2 ;;
    -w) writers=$2; shift 2 ;;
    -d) duration=$2; shift 2 ;;
    --) shift; break ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done
if [ "$writers" -lt 1 ] || [ "$writers" -gt 3 ]; then
  echo "cluster_ingest_bench: -w must be 1..3 (the local cluster has 3 segment-writers)" >&2
  exit 2
fi
loadgen=$build/src/cmd/loadgen/embers-loadgen
[ -x "$loadgen" ] || { echo "cluster_ingest_bench: no $loadgen (build first)" >&2; exit 1; }

dir=$(mktemp -d /tmp/embers-ingest-bench-XXXXXX)
base=$((30000 + RANDOM % 2000 * 10))
cleanup() {
  scripts/cluster.sh stop --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# No per-tenant ingestion limit: it would cap the test, as in scripts/loadgen.sh.
EMBERS_FLAGS="-distributor.ingestion-rate-limit-mb=0" \
  scripts/cluster.sh start --dir "$dir" --build "$build" --base-port "$base" >/dev/null
for i in $(seq $((writers + 1)) 3); do
  scripts/cluster.sh remove "segment-writer-$i" --dir "$dir" >/dev/null
done

# CPU ticks (utime + stime) of every process of the cluster, as "name ticks" lines.
cpu_ticks() {
  for f in "$dir"/pids/*.pid; do
    local name pid
    name=$(basename "$f" .pid)
    pid=$(cat "$f")
    [ -r "/proc/$pid/stat" ] || continue
    awk -v n="$name" '{ print n, $14 + $15 }' "/proc/$pid/stat"
  done
}

before=$(cpu_ticks)
out=$("$loadgen" -url "http://127.0.0.1:$((base + 80))" -duration "${duration}s" -quiet "$@" 2>&1)
after=$(cpu_ticks)

echo "$out" | tail -8
profiles=$(echo "$out" | sed -n 's/^RESULT.* profiles_total=\([0-9]*\).*/\1/p')
echo
echo "segment-writers: $writers, duration: ${duration}s, cores: $(nproc)"
hz=$(getconf CLK_TCK)
join <(echo "$before" | sort) <(echo "$after" | sort) |
  awk -v hz="$hz" -v n="${profiles:-0}" '
    { kind = $1; sub(/-[0-9]+$/, "", kind); cpu[kind] += ($3 - $2) / hz; total += ($3 - $2) / hz }
    END {
      printf "%-18s %10s %14s\n", "component", "CPU s", "µs/profile"
      for (k in cpu) printf "%-18s %10.2f %14.1f\n", k, cpu[k], (n > 0 ? cpu[k] * 1e6 / n : 0)
      printf "%-18s %10.2f %14.1f\n", "all", total, (n > 0 ? total * 1e6 / n : 0)
    }'
