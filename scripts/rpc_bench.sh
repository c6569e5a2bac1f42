#!/usr/bin/env bash
# Small unary RPCs per second on each transport (issue 14): starts `embers` on free ports with a
# fresh filesystem bucket and drives it with h2load (nghttp2-client, the HTTP/2 project's own load
# generator): gRPC over h2c on the HTTP port, gRPC on the gRPC port (grpc++), Connect over HTTP/2
# and Connect over HTTP/1.1 on the HTTP port. Every answer must be a 2xx (h2load counts them; for
# gRPC a 200 with grpc-status 0 — the script also checks one call with curl). Numbers go to
# docs/performance.md ("HTTP/2 on the HTTP port").
#
#   scripts/rpc_bench.sh [build-dir]
#
# Knobs (environment): RB_REQUESTS=200000 RB_CLIENTS=16 RB_STREAMS=64 (per connection, HTTP/2)
#   RB_METHODS="version.v1.Version/Version querier.v1.QuerierService/ProfileTypes"
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
bin="$build/src/cmd/embers/embers"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target embers" >&2; exit 1; }
command -v h2load >/dev/null || { echo "h2load missing: scripts/install-deps.sh --test (nghttp2-client)" >&2; exit 1; }
requests=${RB_REQUESTS:-200000}
clients=${RB_CLIENTS:-16}
streams=${RB_STREAMS:-64}
methods=${RB_METHODS:-"version.v1.Version/Version querier.v1.QuerierService/ProfileTypes"}

# shellcheck source=lib/bench_server.sh
. scripts/lib/bench_server.sh
tmp=$(mktemp -d)
cleanup() {
  stop_bench_server
  rm -rf "$tmp"
  return 0
}
trap cleanup EXIT
start_bench_server "$bin" "$tmp"
port=$BENCH_PORT

# An empty request message: as a gRPC envelope, and as a Connect JSON body (h2load cannot send an
# empty body).
printf '\0\0\0\0\0' >"$tmp/grpc.bin"
printf "{}" >"$tmp/empty.json"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); h2load with 1 thread, $clients connections"
for m in $methods; do
  status=$(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_code}' -X POST \
    -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$tmp/grpc.bin" \
    -D "$tmp/headers" "http://127.0.0.1:$port/$m")
  grep -qi '^grpc-status: 0' "$tmp/headers" || { echo "$m: gRPC check failed (HTTP $status)" >&2; cat "$tmp/headers" >&2; exit 1; }
  run() { # label, h2load args...
    local label=$1
    shift
    local out
    out=$(h2load -t 1 -c "$clients" "$@" 2>&1)
    local rate ok
    rate=$(grep -oE 'finished in [0-9.]+s, [0-9.]+ req/s' <<<"$out" | awk '{print $4}')
    ok=$(grep -oE 'status codes: [0-9]+ 2xx' <<<"$out" | awk '{print $3}')
    printf '%-44s %-28s %10s calls/s  (%s 2xx)\n' "$m" "$label" "$rate" "$ok"
  }
  run "gRPC h2c :http" -n "$requests" -m "$streams" -d "$tmp/grpc.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:$port/$m"
  run "gRPC :grpc (grpc++)" -n "$requests" -m "$streams" -d "$tmp/grpc.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:$gport/$m"
  run "Connect HTTP/2 :http" -n "$requests" -m "$streams" -d "$tmp/empty.json" \
    -H 'content-type: application/json' "http://127.0.0.1:$port/$m"
  run "Connect HTTP/1.1 :http" --h1 -n $((requests / 2)) -d "$tmp/empty.json" \
    -H 'content-type: application/json' "http://127.0.0.1:$port/$m"
done
