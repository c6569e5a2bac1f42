#!/usr/bin/env bash
# Counts the instructions the server spends on pushes: starts `embers` under
# `valgrind --tool=callgrind` (fresh data dir, filesystem bucket), drives it with embers-loadgen at
# a fixed low rate, stops it and prints the process's instruction total, the acknowledged profiles
# and instructions per profile. Instruction counts do not move with a noisy machine the way CPU
# seconds do, so this is how small per-request costs (TLS, authentication) are compared.
#
#   scripts/callgrind-push.sh [-b build-dir] [-t] [-a] [-d seconds]
#     -t  HTTP port over TLS, pushes over https://      -a  API tokens on every push
#
# The callgrind output stays in the printed directory for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build; tls=""; auth=""; duration=30
while getopts "b:tad:h" opt; do
  case $opt in
    b) build=$OPTARG ;; t) tls=1 ;; a) auth=1 ;; d) duration=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/embers-callgrind-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
raft=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
flags=(); scheme=http; curl_tls=(); loadgen_flags=()
if [ -n "$tls" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  flags+=(-server.http-tls-cert-path="$tmp/tls.crt" -server.http-tls-key-path="$tmp/tls.key")
  scheme=https; curl_tls=(--cacert "$tmp/tls.crt"); loadgen_flags+=(-tls-ca-path="$tmp/tls.crt")
fi
[ -n "$auth" ] && flags+=(-auth.enabled=true -auth.admin-token=callgrind-admin)
valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" "$build/src/cmd/embers/embers" \
  -server.http-listen-address=127.0.0.1 -server.http-listen-port="$port" \
  -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port=0 -server.internal-grpc-listen-port=0 \
  -metastore.raft.bind-address="127.0.0.1:$raft" -storage.filesystem.dir="$tmp/bucket" \
  -metastore.data-dir="$tmp/metastore" -distributor.ingestion-rate-limit-mb=0 -log.level=warn \
  "${flags[@]}" 2>"$tmp/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
if [ -n "$auth" ]; then
  token=$(curl -sf "${curl_tls[@]}" -H "Authorization: Bearer callgrind-admin" \
    -d '{"tenant":"loadgen","scopes":"read,write"}' "$scheme://127.0.0.1:$port/api/v1/auth/tokens" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  loadgen_flags+=(-authorization="Bearer $token")
fi
result=$("$build/src/cmd/loadgen/embers-loadgen" -url="$scheme://127.0.0.1:$port" "${loadgen_flags[@]}" \
  -connections=10 -rate=40 -duration="${duration}s" -max-profile-bytes=32768 -quiet | grep '^RESULT')
kill -TERM "$pid"; wait "$pid" || true
trap - EXIT
total=$(callgrind_annotate "$tmp/callgrind.out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
profiles=$(sed -n 's/.*profiles_total=\([0-9]*\).*/\1/p' <<<"$result")
echo "$result"
echo "instructions $total, acknowledged profiles $profiles, per profile $((total / profiles))"
echo "callgrind output: $tmp/callgrind.out"
