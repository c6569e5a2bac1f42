# Sourced by the benchmark scripts (rpc_bench.sh, cli_upload_bench.sh): a single `embers
# -target=all` on free loopback ports with its bucket and metastore in a temporary directory.
#
#   start_bench_server <embers-binary> <dir> [extra flags...]
#
# Sets BENCH_PID and BENCH_PORT (the HTTP port) and waits for /ready; exits the script (with the
# server's log) if it never becomes ready. stop_bench_server sends SIGTERM and waits. The server's
# stderr goes to <dir>/server.log.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# utime + stime of a process, in clock ticks (getconf CLK_TCK per second).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_bench_server() {
  local bin=$1 dir=$2
  shift 2
  BENCH_PORT=$(free_port)
  local gport rport
  gport=$(free_port)
  rport=$(free_port)
  "$bin" -target=all -server.http-listen-address=127.0.0.1 -server.http-listen-port="$BENCH_PORT" \
    -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port="$gport" \
    -server.internal-grpc-listen-port=0 -metastore.raft.bind-address=127.0.0.1:"$rport" \
    -storage.backend=filesystem -storage.filesystem.dir="$dir/bucket" \
    -metastore.data-dir="$dir/metastore" -log.level=warn "$@" 2>"$dir/server.log" &
  BENCH_PID=$!
  for _ in $(seq 100); do curl -sf "127.0.0.1:$BENCH_PORT/ready" >/dev/null && break; sleep 0.1; done
  curl -sf "127.0.0.1:$BENCH_PORT/ready" >/dev/null ||
    { echo "embers did not become ready:" >&2; cat "$dir/server.log" >&2; exit 1; }
}

stop_bench_server() {
  [ -n "${BENCH_PID:-}" ] || return 0
  kill -TERM "$BENCH_PID" 2>/dev/null || true
  wait "$BENCH_PID" 2>/dev/null || true
  BENCH_PID=""
}
