#!/usr/bin/env bash
# Write-path load test (issue 4): starts `embers -target=all` on 127.0.0.1 with a fresh data dir
# (filesystem bucket, no per-tenant ingestion rate limit), runs embers-loadgen against it for a
# bounded time, samples the server's RSS, threads and CPU from /proc every second, prints the
# results and stops the server. Numbers go to docs/performance.md.
#
#   scripts/loadgen.sh [-b build-dir] [-d seconds] [-s segment-duration] [-n nice] [-a] [-t] [-3]
#                      [-- loadgen flags...]
#   scripts/loadgen.sh -b build -d 30 -- -connections=1500 -max-profile-bytes=32768
#   scripts/loadgen.sh -b build -d 30 -- -http2 -connections=2000 -rate=3000
#
# Loadgen flags after `--` are passed through. `-http2` pushes over cleartext HTTP/2 with prior
# knowledge (h2c, as gRPC and Connect's HTTP/2 clients) instead of HTTP/1.1: -connections then
# counts pushes in flight, multiplexed as streams, `-http2-streams` (default 100) per TCP
# connection. `embers-loadgen -help` lists the rest.
#
# -n N sets the nice value of this script's scheduler autogroup (server and load generator) for the
# run, and restores it afterwards. With autogroups (kernel.sched_autogroup_enabled=1) CPU is shared
# evenly between sessions whatever each process's own nice is, so on a machine where others are
# compiling the server gets about one core; `-n -10` (root) shows what it does with the cores.
# Report which was used.
#
# -a runs the server with API tokens (-auth.enabled): a read,write token is created through the
# admin API and every push carries it (the cost of authentication on the write path).
#
# -t serves the HTTP port over TLS (-server.http-tls-*, a P-256 certificate made for the run by the
# openssl CLI) and pushes over https:// (HTTP/1.1): the cost of TLS on the write path.
#
# -3 stores the objects in S3: a real s3rver (npm, from tests/node/node_modules, installed by
# `scripts/install-deps.sh --test`) started for the run, reached over HTTP on loopback. The report
# then adds what the store was asked: requests per segment flush and server CPU per MB uploaded.
#
# EMBERS_ARGS adds server flags. Pyroscope's default ingestion limit is 4 MB/s per tenant; it is
# disabled here (-distributor.ingestion-rate-limit-mb=0) so that it does not cap the test.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
duration=30
segment=500ms
nice=""
auth=""
tls=""
s3=""
while getopts "b:d:s:n:at3h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    d) duration=$OPTARG ;;
    s) segment=$OPTARG ;;
    n) nice=$OPTARG ;;
    a) auth=1 ;;
    t) tls=1 ;;
    3) s3=1 ;;
    *) sed -n '2,31p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

bin="$build/src/cmd/embers/embers"
loadgen="$build/src/cmd/loadgen/embers-loadgen"
for b in "$bin" "$loadgen"; do
  [ -x "$b" ] || { echo "missing $b: ninja -C $build embers embers-loadgen" >&2; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
tmp=$(mktemp -d)
port=$(free_port)
gport=$(free_port)
auth_flags=""
[ -n "$auth" ] && auth_flags="-auth.enabled=true -auth.admin-token=loadgen-admin"
scheme=http
curl_tls=()
loadgen_tls=()
if [ -n "$tls" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  auth_flags="$auth_flags -server.http-tls-cert-path=$tmp/tls.crt -server.http-tls-key-path=$tmp/tls.key"
  scheme=https
  curl_tls=(--cacert "$tmp/tls.crt")
  loadgen_tls=(-tls-ca-path="$tmp/tls.crt")
fi
storage_flags="-storage.backend=filesystem -storage.filesystem.dir=$tmp/bucket"
s3rver_pid=""
if [ -n "$s3" ]; then
  # shellcheck source=lib/s3rver.sh
  . scripts/lib/s3rver.sh
  start_s3rver "$tmp/s3rver" "$tmp/s3rver.log"
  s3rver_pid=$S3RVER_PID
  storage_flags=$S3_STORAGE_FLAGS
fi
# shellcheck disable=SC2086  # EMBERS_ARGS, storage_flags and auth_flags are lists of flags
"$bin" -server.http-listen-address=127.0.0.1 -server.http-listen-port="$port" \
  -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port="$gport" \
  -server.internal-grpc-listen-port=0 \
  $storage_flags \
  -metastore.data-dir="$tmp/metastore" \
  -distributor.ingestion-rate-limit-mb=0 \
  -segment-writer.segment-duration="$segment" \
  -log.level=warn $auth_flags ${EMBERS_ARGS:-} 2>"$tmp/server.log" &
pid=$!
sampler=""
old_nice=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -n "$s3rver_pid" ] && kill "$s3rver_pid" 2>/dev/null && wait "$s3rver_pid" 2>/dev/null
  rm -rf "$tmp"
  [ -n "$old_nice" ] && echo "$old_nice" >/proc/$$/autogroup
  return 0
}
trap cleanup EXIT
old_nice=""
if [ -n "$nice" ]; then  # the whole session's autogroup: applies to the running server too
  old_nice=$(awk '{print $3}' /proc/$$/autogroup)
  echo "$nice" >/proc/$$/autogroup
fi

for _ in $(seq 100); do curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/ready" >/dev/null || { echo "embers did not become ready:" >&2; cat "$tmp/server.log" >&2; exit 1; }

loadgen_auth=()
if [ -n "$auth" ]; then
  token=$(curl -sf "${curl_tls[@]}" -H "Authorization: Bearer loadgen-admin" -d '{"tenant":"loadgen","scopes":"read,write"}' \
    "$scheme://127.0.0.1:$port/api/v1/auth/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { echo "could not create an API token" >&2; exit 1; }
  loadgen_auth=(-authorization="Bearer $token")
  echo "== API tokens on: every push carries a Bearer token of tenant loadgen"
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== embers pid $pid on 127.0.0.1:$port, segments $segment, ${duration}s, autogroup $(cat /proc/$$/autogroup)"

# One line per second: elapsed s, RSS KiB, threads, cumulative CPU ticks (utime + stime).
sample() {
  local t=0
  while [ -r "/proc/$pid/status" ]; do
    local rss threads ticks
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
    threads=$(awk '/^Threads:/{print $2}' "/proc/$pid/status")
    # Fields 14 and 15 of /proc/pid/stat; the command name (field 2) has no spaces here.
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    echo "$t $rss $threads $ticks" >>"$tmp/samples"
    sleep 1
    t=$((t + 1))
  done
}
sample &
sampler=$!

status=0
[ -n "$tls" ] && echo "== TLS on: pushes over https:// (HTTP/1.1, ECDSA P-256 certificate)"
"$loadgen" -url="$scheme://127.0.0.1:$port" -duration="${duration}s" "${loadgen_tls[@]}" "${loadgen_auth[@]}" "$@" | tee "$tmp/loadgen.out" ||
  status=$?

kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server, sampled every second (RSS MiB, threads, CPU % of one core)"
# What the server spent per acknowledged profile and per MB: comparable across load averages.
result=$(grep '^RESULT' "$tmp/loadgen.out" || true)
profiles=$(sed -n 's/.*profiles_total=\([0-9]*\).*/\1/p' <<<"$result")
pbytes=$(sed -n 's/.*pprof_bytes_total=\([0-9]*\).*/\1/p' <<<"$result")
awk -v hz="$(getconf CLK_TCK)" -v profiles="${profiles:-0}" -v pbytes="${pbytes:-0}" '
  { t[NR] = $1; rss[NR] = $2 / 1024; thr[NR] = $3; ticks[NR] = $4 }
  END {
    line = ""
    for (i = 1; i <= NR; i++) {
      cpu = i > 1 ? (ticks[i] - ticks[i - 1]) * 100 / hz : 0
      line = line sprintf("  %3ds %6.1f %3d %4.0f%%", t[i], rss[i], thr[i], cpu)
      if (i % 4 == 0 || i == NR) { print line; line = "" }
      if (rss[i] > max_rss) max_rss = rss[i]
      if (thr[i] > max_thr) max_thr = thr[i]
    }
    # Steady state: the second half of the run.
    n = 0; sum = 0
    for (i = int(NR / 2) + 1; i <= NR; i++) { sum += rss[i]; n++ }
    cpu_all = NR > 1 ? (ticks[NR] - ticks[1]) * 100 / hz / (t[NR] - t[1]) : 0
    printf "RSS max %.1f MiB, steady (mean of 2nd half) %.1f MiB; threads max %d; server CPU %.0f%% of one core\n",
      max_rss, n ? sum / n : 0, max_thr, cpu_all
    secs = (ticks[NR] - ticks[1]) / hz
    if (profiles > 0 && secs > 0)
      printf "server CPU %.1f s: %.0f us per profile, %.1f MB/s of uncompressed pprof per core\n",
        secs, secs * 1e6 / profiles, pbytes / 1e6 / secs
  }' "$tmp/samples"
# Compaction: time from a segment's write to the end of its first compaction (histogram
# quantiles, interpolated within buckets), jobs and bytes per level, what the index holds.
metrics=$(curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/metrics" || true)
quantile() { # quantile q of a histogram family from the metrics text
  awk -v q="$1" -v fam="$2" '
    index($0, fam "_bucket{") == 1 {
      le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le); n[++k] = $NF; b[k] = le
    }
    END {
      if (k == 0 || n[k] == 0) { print "n/a"; exit }
      want = q * n[k]; prev_n = 0; prev_b = 0
      for (i = 1; i <= k; i++) {
        if (n[i] >= want) {
          if (b[i] == "+Inf") { print ">" prev_b; exit }
          f = n[i] > prev_n ? (want - prev_n) / (n[i] - prev_n) : 0
          printf "%.2f\n", prev_b + f * (b[i] - prev_b); exit
        }
        prev_n = n[i]; prev_b = b[i]
      }
    }' <<<"$metrics"
}
ttc=embers_compaction_time_to_first_compaction_seconds
echo "== compaction: segments compacted $(grep "^${ttc}_count" <<<"$metrics" | awk '{print $NF}'), time to first" \
  "compaction p50 $(quantile 0.5 $ttc) s, p90 $(quantile 0.9 $ttc) s, p99 $(quantile 0.99 $ttc) s;" \
  "within 5 s: $(awk -v fam="$ttc" 'index($0, fam "_bucket{le=\"5\"}") == 1 { w = $NF }
      index($0, fam "_count") == 1 { n = $NF } END { if (n > 0) printf "%.1f%%", 100 * w / n; else print "n/a" }' <<<"$metrics")"
grep -E '^embers_compaction_worker_(jobs_total|bytes_total|profiles_total|job_duration_seconds_sum|job_duration_seconds_count)\{' <<<"$metrics" | sed 's/^/   /' || true
curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/metastore/status" | python3 -c '
import json, sys
c = json.load(sys.stdin)["compaction"]
print("== index: " + ", ".join("L%d %d blocks (%d queued, lag %.1f s)" % (l["level"], l["blocks"], l["queued_blocks"], l["oldest_queued_age_ms"] / 1000) for l in c["levels"]) +
      "; tombstones %d; deleted %d objects, %.1f MB" % (c["tombstones"], c["deleted_objects"], c["deleted_bytes"] / 1e6))
' || true
if [ -n "$s3" ]; then
  # What the store was asked during the run, per segment flush, and the server CPU per MB sent.
  awk -v hz="$(getconf CLK_TCK)" -v ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat")" '
    /^embers_objstore_operations_total\{backend="s3"/ {
      op = $0; sub(/.*operation="/, "", op); sub(/".*/, "", op); ops[op] += $NF; total += $NF
      if ($0 !~ /result="OK"/) failed += $NF
    }
    /^embers_objstore_bytes_total\{backend="s3",operation="put/ { put_bytes += $NF }
    /^embers_segment_writer_segments_total/ { flushes += $NF }
    END {
      line = ""; for (op in ops) line = line sprintf(" %s %d", op, ops[op])
      printf "== S3: %d requests (%s), %d failed; %.1f MB uploaded\n", total, substr(line, 2), failed, put_bytes / 1e6
      if (flushes > 0) printf "   %d segment flushes: %.2f PUTs per flush\n", flushes, ops["put"] / flushes
      if (put_bytes > 0) printf "   server CPU %.1f ms per MB uploaded (all server work, over the whole run)\n", ticks / hz * 1000 / (put_bytes / 1e6)
    }' <<<"$metrics"
  objects=$(find "$tmp/s3rver" -name '*._S3rver_object' 2>/dev/null | wc -l)
  echo "== bucket (s3rver): $objects objects, $(du -sh "$tmp/s3rver" 2>/dev/null | cut -f1)"
else
  objects=$(find "$tmp/bucket" -name block.bin 2>/dev/null | wc -l)
  echo "== bucket: $objects objects, $(du -sh "$tmp/bucket" 2>/dev/null | cut -f1)"
fi
if grep -q 'level=error' "$tmp/server.log"; then
  echo "== server errors (first 5):"
  grep 'level=error' "$tmp/server.log" | head -5
fi
exit $status
