# Sourced by the benchmark scripts (loadgen.sh -3, query_bench.sh with QB_S3=1): starts a real
# s3rver (npm, from tests/node/node_modules, installed by `scripts/install-deps.sh --test`) for the
# run, through tests/node/s3rver_s3_semantics.cjs (S3's atomic overwrites, byte-ordered listings).
#
#   start_s3rver <data-dir> <log-file>
#
# Sets S3RVER_PID (kill it when done) and S3_STORAGE_FLAGS (the embers flags for bucket "embers"
# on it, path style over http on loopback). Exits the script if s3rver does not answer.

start_s3rver() {
  local dir=$1 log=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  node --openssl-legacy-provider tests/node/s3rver_s3_semantics.cjs -d "$dir" -a 127.0.0.1 \
    -p "$port" --configure-bucket embers --silent >"$log" 2>&1 &
  S3RVER_PID=$!
  local probe="http://127.0.0.1:$port/embers?list-type=2&max-keys=1"
  for _ in $(seq 100); do curl -sf "$probe" >/dev/null && break; sleep 0.1; done
  curl -sf "$probe" >/dev/null ||
    { echo "s3rver did not start (npm ci in tests/node?):" >&2; cat "$log" >&2; exit 1; }
  S3_STORAGE_FLAGS="-storage.backend=s3 -storage.s3.endpoint=127.0.0.1:$port"
  S3_STORAGE_FLAGS="$S3_STORAGE_FLAGS -storage.s3.bucket-name=embers -storage.s3.insecure=true"
  S3_STORAGE_FLAGS="$S3_STORAGE_FLAGS -storage.s3.force-path-style=true"
  S3_STORAGE_FLAGS="$S3_STORAGE_FLAGS -storage.s3.access-key-id=S3RVER -storage.s3.secret-access-key=S3RVER"
}
