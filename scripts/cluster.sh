#!/usr/bin/env bash
# A local Embers cluster in microservices mode: every component in its own process on this
# machine, on loopback, as it would run on many (one `embers -target=<component>` per process).
#
#   scripts/cluster.sh start   [--dir DIR] [--s3] [--build BUILD_DIR] [--base-port P]
#   scripts/cluster.sh stop    [--dir DIR]
#   scripts/cluster.sh status  [--dir DIR]
#   scripts/cluster.sh restart NAME                 [--dir DIR]   e.g. restart segment-writer-2
#   scripts/cluster.sh add     COMPONENT            [--dir DIR]   segment-writer, query-backend or
#                                                                 compaction-worker; prints the name
#   scripts/cluster.sh remove  NAME                 [--dir DIR]   SIGTERM, waits for the exit
#
# start: 3 metastores (one Raft cluster, node ids 1..3), 2 distributors, 3 segment-writers,
# 2 query-frontends, 2 query-backends, 2 compaction-workers, all on one bucket (DIR/bucket, or with
# --s3 one s3rver from tests/node/node_modules through scripts/lib/s3rver.sh) and one generated
# -server.cluster-secret (in DIR/cluster.yaml, mode 600, so it is not on the command lines). Waits
# until every process answers /ready, then prints the endpoints. Starting a stopped cluster again
# resumes it with its data, members and base port.
#
# DIR (default ./data/cluster) holds everything: logs/NAME.log, pids/NAME.pid, NAME/ (the
# process's working directory: metastore Raft log, compaction scratch files), bucket/, a copy of
# the binary (bin/embers; restart and add take a newer build if there is one, which is how to try a
# rolling upgrade), cluster.env (the settings the other commands read) and members (one name a
# line). Ports: instance n of component c (metastore 0, distributor 1, segment-writer 2,
# query-frontend 3, query-backend 4, compaction-worker 5) uses P + 4·(20c + n − 1) + {0: HTTP,
# 1: public gRPC, 2: internal gRPC, 3: Raft}, so a cluster takes P … P+479 (P default 14000) and
# two clusters coexist with base ports 480 apart.
#
# status prints name, pid, alive and /ready of each process and exits 1 unless all are up and
# ready. stop SIGTERMs the processes in dependency order (distributors and query-frontends, then
# segment-writers, query-backends and compaction-workers, then metastores), SIGKILLs what is left
# after STOP_TIMEOUT seconds, and stops s3rver; data stays in DIR.
#
# Environment: EMBERS_BIN (binary to use instead of BUILD_DIR/src/cmd/embers/embers), EMBERS_FLAGS
# (more flags for every process, remembered by the cluster), READY_TIMEOUT (s, default 60),
# STOP_TIMEOUT (s, default 45: above the default -server.graceful-shutdown-timeout of 30 s),
# EMBERS_CLUSTER_DISCOVERY (membership, the default, or static: see the "Static wiring" block in
# this script; remembered).
# Exit codes: 0 done, 1 failed (e.g. not ready in time), 2 usage, 3 a port of the layout is taken.
set -euo pipefail

usage() {  # the comment block above
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

repo=$(cd "$(dirname "$0")/.." && pwd)

# Components in start order (a process's dependencies come before it) and how many of each.
COMPONENTS=(metastore segment-writer query-backend compaction-worker distributor query-frontend)
declare -A INITIAL=([metastore]=3 [segment-writer]=3 [query-backend]=2 [compaction-worker]=2
  [distributor]=2 [query-frontend]=2)
declare -A SLOT_BASE=([metastore]=0 [distributor]=20 [segment-writer]=40 [query-frontend]=60
  [query-backend]=80 [compaction-worker]=100)
MAX_INSTANCES=20
PORTS_PER_SLOT=4
# Stop order: what sends work first, what holds the index last (segment-writers flushing on
# SIGTERM still register their last segments with the metastore).
STOP_GROUPS=("distributor query-frontend" "segment-writer query-backend compaction-worker" "metastore")

log() { echo "cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------
[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
  start | stop | status | restart | add | remove) ;;
  -h | --help | help) usage ;;
  *) log "unknown command $cmd"; usage ;;
esac
dir=./data/cluster
build=""
s3=""
base_port=""
target=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --build=*) build=${1#*=}; shift ;;
    --base-port) base_port=${2:?--base-port needs a port}; shift 2 ;;
    --base-port=*) base_port=${1#*=}; shift ;;
    --s3) s3=1; shift ;;
    -h | --help) usage ;;
    -*) log "unknown option $1"; usage ;;
    *)
      [ -z "$target" ] || { log "unexpected argument $1"; usage; }
      target=$1
      shift
      ;;
  esac
done
[ "$cmd" != start ] || mkdir -p "$dir"
[ -d "$dir" ] || die "no cluster in $dir (no such directory)"
dir=$(cd "$dir" && pwd)
# Flags are passed as words: a blank in a path would split one.
[[ $dir != *[[:space:]]* ]] || die "the cluster directory may not contain blanks: $dir"
[ -z "$build" ] || build=$(cd "$build" && pwd)
[ -z "$base_port" ] || [[ $base_port =~ ^[0-9]+$ && $base_port -ge 1024 && $base_port -le 65000 ]] ||
  die "--base-port must be a number from 1024 to 65000"

ENV_FILE=$dir/cluster.env
MEMBERS_FILE=$dir/members
SECRET_FILE=$dir/cluster.yaml
BIN=$dir/bin/embers

# ---------------------------------------------------------------------------------------------
# Names, ports, processes
# ---------------------------------------------------------------------------------------------
component_of() { echo "${1%-*}"; }
instance_of() { echo "${1##*-}"; }

valid_name() {
  local c=${1%-*} n=${1##*-}
  [[ -n ${SLOT_BASE[$c]:-} && $n =~ ^[0-9]+$ && $n -ge 1 && $n -le $MAX_INSTANCES ]]
}

# port NAME KIND (0 HTTP, 1 public gRPC, 2 internal gRPC, 3 Raft)
port() {
  local c n
  c=$(component_of "$1")
  n=$(instance_of "$1")
  echo $((BASE_PORT + PORTS_PER_SLOT * (${SLOT_BASE[$c]} + n - 1) + $2))
}
internal_address() { echo "127.0.0.1:$(port "$1" 2)"; }

members() { if [ -f "$MEMBERS_FILE" ]; then cat "$MEMBERS_FILE"; fi; }
is_member() { valid_name "$1" && members | grep -qx -- "$1"; }
members_of() { members | grep -E "^$1-[0-9]+\$" || true; }
# Comma-separated internal addresses of the members of a component.
addresses_of() {
  local out="" m
  for m in $(members_of "$1"); do out+="${out:+,}$(internal_address "$m")"; done
  echo "$out"
}

pid_file() { echo "$dir/pids/$1.pid"; }
log_file() { echo "$dir/logs/$1.log"; }

# The pid of NAME if it runs. The command line must name this cluster's config file, so a pid
# reused by another process after a reboot is never signalled.
running_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -f "$f" ] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # (A zombie's command line is empty: an exited process whose parent has not reaped it yet.)
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$SECRET_FILE" || return 1
  echo "$pid"
}

# /ready of NAME: prints its answer ("ready", "not ready: …", or why there is none); 0 when 200.
ready_state() {
  local out code
  out=$(curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$(port "$1" 0)/ready" 2>/dev/null) ||
    { echo "no answer"; return 1; }
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  out=${out//$'\n'/ }
  echo "${out%"${out##*[![:space:]]}"}"
  [ "$code" = 200 ]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# True while PID has not exited (a zombie has: it only waits for its parent to reap it).
pid_alive() {
  local stat
  stat=$(cat 2>/dev/null "/proc/$1/stat") || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# ---------------------------------------------------------------------------------------------
# Static wiring (EMBERS_CLUSTER_DISCOVERY=static; the default is membership).
#
# By default segment-writers, query-backends and compaction-workers register with the metastore and
# distributors and query-frontends discover them (membership_flags below). The static mode starts
# each distributor with the list of segment-writers (-distributor.segment-writer-addresses) and
# each query-frontend with the list of query-backends (-query-backend.address), and adding or
# removing one of those restarts the processes holding the list, one at a time (static_rewire):
# kept to compare the two and for setups without membership.
# ---------------------------------------------------------------------------------------------
DISCOVERY=${EMBERS_CLUSTER_DISCOVERY:-membership}

# The fixed lists a component is started with (none in membership mode).
static_wiring_flags() {
  [ "$DISCOVERY" = static ] || return 0
  case $1 in
    distributor) echo "-distributor.segment-writer-addresses=$(addresses_of segment-writer)" ;;
    query-frontend) echo "-query-backend.address=$(addresses_of query-backend)" ;;
  esac
}

# After COMPONENT's members changed: restart the processes that list them, one at a time, so
# that the others keep serving meanwhile.
static_rewire() {
  [ "$DISCOVERY" = static ] || return 0
  local holder m
  case $1 in
    segment-writer) holder=distributor ;;
    query-backend) holder=query-frontend ;;
    *) return 0 ;;
  esac
  for m in $(members_of "$holder"); do
    log "restarting $m with the new $1 list (static wiring)"
    stop_processes "$m"
    start_process "$m"
    wait_ready "$m"
  done
}
# --------------------------------------------------------------------- end of static wiring --

# Membership mode: segment-writers, query-backends and compaction-workers register with the
# metastore under their name, at their internal address; distributors and query-frontends started
# without the static lists watch the member table; the metastores keep it (lease, forget-after).
membership_flags() {
  [ "$DISCOVERY" = membership ] || return 0
  case $(component_of "$1") in
    segment-writer | query-backend | compaction-worker)
      echo "-membership.instance-id=$1 -server.internal-grpc-advertise-address=$(internal_address "$1")"
      echo "-membership.heartbeat-interval=1s -membership.leave-delay=1s"
      ;;
    metastore) echo "-membership.lease-duration=5s -membership.forget-after=10m" ;;
  esac
}

# The command line of NAME, one flag a line.
process_flags() {
  local name=$1 c n peers="" m
  c=$(component_of "$name")
  n=$(instance_of "$name")
  cat <<EOF
-target=$c
-config.file=$SECRET_FILE
-server.http-listen-address=127.0.0.1
-server.http-listen-port=$(port "$name" 0)
-server.grpc-listen-address=127.0.0.1
-server.grpc-listen-port=$(port "$name" 1)
-server.internal-grpc-listen-address=127.0.0.1
-server.internal-grpc-listen-port=$(port "$name" 2)
EOF
  tr ' ' '\n' <<<"$STORAGE_FLAGS"
  case $c in
    metastore)
      for m in $(members_of metastore); do
        peers+="${peers:+,}$(instance_of "$m")=127.0.0.1:$(port "$m" 3)"
      done
      echo "-metastore.raft.node-id=$n"
      echo "-metastore.raft.bind-address=127.0.0.1:$(port "$name" 3)"
      echo "-metastore.raft.bootstrap-peers=$peers"
      echo "-metastore.data-dir=$dir/$name/metastore"
      ;;
    *) echo "-metastore.address=$(addresses_of metastore)" ;;
  esac
  [ "$c" != compaction-worker ] || echo "-compaction-worker.temp-dir=$dir/$name/tmp"
  static_wiring_flags "$c" | tr ' ' '\n'
  membership_flags "$name" | tr ' ' '\n'
  [ -z "$EXTRA_FLAGS" ] || tr ' ' '\n' <<<"$EXTRA_FLAGS"
}

# Replaces bin/embers by the build's binary when that is newer (rename: running copies keep
# their file).
refresh_binary() {
  [ -x "$SOURCE_BIN" ] || die "no embers binary at $SOURCE_BIN (build it, or pass --build / EMBERS_BIN)"
  if [ ! -x "$BIN" ] || [ "$SOURCE_BIN" -nt "$BIN" ]; then
    mkdir -p "$dir/bin"
    cp "$SOURCE_BIN" "$BIN.new"
    mv -f "$BIN.new" "$BIN"
    log "using $SOURCE_BIN"
  fi
}

start_process() {
  local name=$1 flags pid
  running_pid "$name" >/dev/null && die "$name is already running"
  mkdir -p "$dir/$name" "$dir/logs" "$dir/pids"
  mapfile -t flags < <(process_flags "$name" | grep -v '^$')
  echo "=== $(date -u +%FT%TZ) start: $BIN ${flags[*]}" >>"$(log_file "$name")"
  # setsid: no controlling terminal, so closing the terminal (SIGHUP) does not end the cluster.
  # The subshell is not a process-group leader, so setsid execs in place and $! is embers.
  (cd "$dir/$name" && exec setsid "$BIN" "${flags[@]}" </dev/null >>"$(log_file "$name")" 2>&1) &
  pid=$!
  echo "$pid" >"$(pid_file "$name")"
  # Until the subshell has exec'd, $pid is a copy of this script, which running_pid does not
  # recognise: wait for the exec (or the end) so that callers see the process as it is.
  for _ in $(seq 100); do
    if running_pid "$name" >/dev/null || ! pid_alive "$pid"; then break; fi
    sleep 0.05
  done
}

# SIGTERM to NAMEs, wait up to STOP_TIMEOUT for all of them, SIGKILL the rest.
stop_processes() {
  local name pid deadline left killed=()
  declare -A pids=()
  for name in "$@"; do
    pid=$(running_pid "$name") || { rm -f "$(pid_file "$name")"; continue; }
    pids[$name]=$pid
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + ${STOP_TIMEOUT:-45}))
  while :; do
    left=()
    for name in "${!pids[@]}"; do
      ! pid_alive "${pids[$name]}" || left+=("$name")
    done
    if [ ${#left[@]} -eq 0 ] || [ $SECONDS -ge $deadline ]; then break; fi
    sleep 0.2
  done
  for name in "${left[@]}"; do
    kill -KILL "${pids[$name]}" 2>/dev/null || true
    killed+=("$name")
  done
  for name in "${!pids[@]}"; do rm -f "$(pid_file "$name")"; done
  [ ${#killed[@]} -eq 0 ] || log "killed after ${STOP_TIMEOUT:-45} s: ${killed[*]}"
}

# Waits until every NAME answers /ready with 200; names the others (with their answer and log
# tail) after READY_TIMEOUT, or at once when one has exited.
wait_ready() {
  local deadline=$((SECONDS + ${READY_TIMEOUT:-60})) name waiting state
  while :; do
    waiting=()
    for name in "$@"; do
      if ! running_pid "$name" >/dev/null; then
        log "$name exited during start; the end of $(log_file "$name"):"
        tail -n 20 "$(log_file "$name")" >&2
        exit 1
      fi
      ready_state "$name" >/dev/null || waiting+=("$name")
    done
    [ ${#waiting[@]} -gt 0 ] || return 0
    [ $SECONDS -lt $deadline ] || break
    sleep 0.3
  done
  log "not ready after ${READY_TIMEOUT:-60} s:"
  for name in "${waiting[@]}"; do
    state=$(ready_state "$name" || true)
    log "  $name (pid $(running_pid "$name" || echo -), http://127.0.0.1:$(port "$name" 0)/ready): $state"
    tail -n 3 "$(log_file "$name")" | sed 's/^/      /' >&2
  done
  log "the processes are left running for a look; stop them with: $0 stop --dir $dir"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Cluster settings (cluster.env)
# ---------------------------------------------------------------------------------------------
save_env() {
  {
    printf 'BASE_PORT=%q\n' "$BASE_PORT"
    printf 'SOURCE_BIN=%q\n' "$SOURCE_BIN"
    printf 'BACKEND=%q\n' "$BACKEND"
    printf 'STORAGE_FLAGS=%q\n' "$STORAGE_FLAGS"
    printf 'EXTRA_FLAGS=%q\n' "$EXTRA_FLAGS"
    printf 'DISCOVERY=%q\n' "$DISCOVERY"
  } >"$ENV_FILE"
}

load_env() {
  [ -f "$ENV_FILE" ] || die "no cluster in $dir (start one with: $0 start --dir $dir)"
  # shellcheck source=/dev/null
  . "$ENV_FILE"
  # A newer build given now wins for restart and add.
  if [ -n "${EMBERS_BIN:-}" ]; then SOURCE_BIN=$EMBERS_BIN; fi
  if [ -n "$build" ]; then SOURCE_BIN=$build/src/cmd/embers/embers; fi
}

s3rver_running() {
  local pid
  [ -f "$dir/pids/s3rver.pid" ] || return 1
  pid=$(<"$dir/pids/s3rver.pid")
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/s3rver" || return 1
  echo "$pid"
}

start_store() {
  if [ "$BACKEND" = s3 ]; then
    # scripts/lib/s3rver.sh picks a free port and sets S3RVER_PID and S3_STORAGE_FLAGS; it runs
    # tests/node/… relative to the repository.
    # shellcheck source=scripts/lib/s3rver.sh
    . "$repo/scripts/lib/s3rver.sh"
    mkdir -p "$dir/s3rver" "$dir/logs" "$dir/pids"
    # Ignored signals stay ignored across exec: s3rver outlives the terminal like the cluster.
    trap '' HUP
    (cd "$repo" && start_s3rver "$dir/s3rver" "$dir/logs/s3rver.log" &&
      echo "$S3RVER_PID" >"$dir/pids/s3rver.pid" && echo "$S3_STORAGE_FLAGS" >"$dir/s3.flags")
    trap - HUP
    STORAGE_FLAGS=$(<"$dir/s3.flags")
    log "s3rver (pid $(<"$dir/pids/s3rver.pid")): $STORAGE_FLAGS"
  else
    STORAGE_FLAGS="-storage.backend=filesystem -storage.filesystem.dir=$dir/bucket"
  fi
}

print_endpoints() {
  local m h
  echo "Embers cluster in $dir ($(members | wc -l) processes, base port $BASE_PORT, bucket: $BACKEND)"
  for m in $(members_of distributor); do
    h=http://127.0.0.1:$(port "$m" 0)
    echo "  push   $m: $h  (Pyroscope SDKs, Alloy, /ingest, OTLP /v1development/profiles; gRPC 127.0.0.1:$(port "$m" 1))"
  done
  for m in $(members_of query-frontend); do
    h=http://127.0.0.1:$(port "$m" 0)
    echo "  query  $m: $h  (UI, Grafana, /querier.v1.QuerierService/*, /pyroscope/render; gRPC 127.0.0.1:$(port "$m" 1))"
  done
  for m in $(members_of metastore); do
    echo "  metastore status $m: http://127.0.0.1:$(port "$m" 0)/metastore/status"
  done
  echo "  logs: $dir/logs/NAME.log; status: $0 status --dir $dir; stop: $0 stop --dir $dir"
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
cmd_start() {
  local c n m taken=()
  if [ -f "$ENV_FILE" ]; then
    # A stopped cluster: resume it as it was (the Raft log holds the metastores' addresses, so
    # the base port cannot change).
    local want_port=$base_port
    load_env
    [ -z "$want_port" ] || [ "$want_port" = "$BASE_PORT" ] ||
      die "$dir holds a cluster on base port $BASE_PORT; use another --dir for base port $want_port"
    [ -z "$s3" ] || [ "$BACKEND" = s3 ] ||
      die "$dir holds a cluster on a filesystem bucket; use another --dir for --s3"
    for m in $(members); do
      ! running_pid "$m" >/dev/null || die "$m is running already (stop the cluster first)"
    done
    EXTRA_FLAGS=${EMBERS_FLAGS:-$EXTRA_FLAGS}
  else
    BASE_PORT=${base_port:-14000}
    SOURCE_BIN=${EMBERS_BIN:-${build:-$repo/build}/src/cmd/embers/embers}
    BACKEND=$([ -n "$s3" ] && echo s3 || echo filesystem)
    EXTRA_FLAGS=${EMBERS_FLAGS:-}
    for c in "${COMPONENTS[@]}"; do
      for ((n = 1; n <= ${INITIAL[$c]}; n++)); do echo "$c-$n"; done
    done >"$MEMBERS_FILE"
    # The secret every process sends on internal calls and requires of them.
    (umask 077 && printf 'server:\n  cluster_secret: "%s"\n' "$(openssl rand -hex 32)" >"$SECRET_FILE")
  fi
  [ -z "$build" ] || SOURCE_BIN=$build/src/cmd/embers/embers
  [ -z "${EMBERS_BIN:-}" ] || SOURCE_BIN=$EMBERS_BIN
  for m in $(members); do
    for k in 0 1 2 3; do port_in_use "$(port "$m" "$k")" && taken+=("$(port "$m" "$k") ($m)"); done
  done
  if [ ${#taken[@]} -gt 0 ]; then
    log "${#taken[@]} ports of this cluster's layout are in use, e.g. ${taken[*]:0:3}"
    log "pick another --base-port (a cluster takes 480 ports from it)"
    exit 3
  fi
  refresh_binary
  start_store
  save_env
  for c in "${COMPONENTS[@]}"; do
    for m in $(members_of "$c"); do start_process "$m"; done
  done
  log "started $(members | wc -l) processes; waiting for /ready"
  # shellcheck disable=SC2046  # one name a word
  wait_ready $(members)
  print_endpoints
}

cmd_stop() {
  local group c names pid
  load_env
  for group in "${STOP_GROUPS[@]}"; do
    names=()
    for c in $group; do
      mapfile -t -O "${#names[@]}" names < <(members_of "$c")
    done
    [ ${#names[@]} -eq 0 ] || stop_processes "${names[@]}"
  done
  if pid=$(s3rver_running); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pids/s3rver.pid"
  log "stopped (data kept in $dir)"
}

cmd_status() {
  local m pid alive ready bad=0
  load_env
  printf '%-22s %-8s %-6s %s\n' NAME PID ALIVE READY
  for m in $(members); do
    if pid=$(running_pid "$m"); then
      alive=yes
      ready=$(ready_state "$m") || bad=1
    else
      pid=- alive=no ready=- bad=1
    fi
    printf '%-22s %-8s %-6s %s\n' "$m" "$pid" "$alive" "$ready"
  done
  if [ "$BACKEND" = s3 ]; then
    if pid=$(s3rver_running); then alive=yes; else pid=- alive=no bad=1; fi
    printf '%-22s %-8s %-6s %s\n' s3rver "$pid" "$alive" -
  fi
  return $bad
}

cmd_restart() {
  local name=$1
  load_env
  is_member "$name" || die "no member $name (see: $0 status --dir $dir)"
  refresh_binary
  stop_processes "$name"
  start_process "$name"
  wait_ready "$name"
  log "$name restarted (pid $(running_pid "$name"))"
}

cmd_add() {
  local c=$1 n name
  case $c in
    segment-writer | query-backend | compaction-worker) ;;
    *) die "add takes segment-writer, query-backend or compaction-worker (not $c)" ;;
  esac
  load_env
  for ((n = 1; n <= MAX_INSTANCES; n++)); do
    members | grep -qx -- "$c-$n" || break
  done
  [ $n -le $MAX_INSTANCES ] || die "$c has $MAX_INSTANCES instances already (the port layout's limit)"
  name=$c-$n
  for k in 0 1 2; do
    ! port_in_use "$(port "$name" "$k")" || die "port $(port "$name" "$k") of $name is in use"
  done
  refresh_binary
  echo "$name" >>"$MEMBERS_FILE"
  start_process "$name"
  wait_ready "$name"
  static_rewire "$c"
  log "$name added (pid $(running_pid "$name"))"
  echo "$name"
}

cmd_remove() {
  local name=$1 c
  load_env
  is_member "$name" || die "no member $name (see: $0 status --dir $dir)"
  c=$(component_of "$name")
  # A metastore is a Raft voter: stopping it is a restart's business, removing it is
  # RaftNodeService.RemoveNode's (docs/operations.md).
  [ "$c" != metastore ] || die "metastores are Raft voters: remove one with RaftNodeService.RemoveNode (docs/operations.md), or stop the cluster"
  [ "$(members_of "$c" | wc -l)" -gt 1 ] || die "$name is the last $c; stop the cluster instead"
  grep -vx -- "$name" "$MEMBERS_FILE" >"$MEMBERS_FILE.new" || true
  mv "$MEMBERS_FILE.new" "$MEMBERS_FILE"
  # Static wiring: the lists drop it before it goes, so no push or plan share is sent to it
  # while it stops (with membership the process leaves by itself on SIGTERM).
  static_rewire "$c"
  stop_processes "$name"
  log "$name removed (its files stay in $dir/$name)"
}

case $cmd in
  start) [ -z "$target" ] || usage; cmd_start ;;
  stop) [ -z "$target" ] || usage; cmd_stop ;;
  status) [ -z "$target" ] || usage; cmd_status ;;
  restart) [ -n "$target" ] || usage; cmd_restart "$target" ;;
  add) [ -n "$target" ] || usage; cmd_add "$target" ;;
  remove) [ -n "$target" ] || usage; cmd_remove "$target" ;;
esac
