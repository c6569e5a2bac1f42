#!/usr/bin/env bash
# Installs what Embers needs to build, run and test, from Debian packages and npm.
# Idempotent: installs only what is missing, so it is safe to run before every build.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also the test tools (npm clients, wrk, chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    *) echo "install-deps: unknown option $a" >&2; exit 2 ;;
  esac
done

# Build and runtime libraries (DESIGN §9).
pkgs=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc libabsl-dev libre2-dev
  libzstd-dev zlib1g-dev libdeflate-dev liblz4-dev libxxhash-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libcurl4-openssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libraft-dev libuv1-dev libnghttp2-dev
  clang-14 libclang-rt-14-dev clang-format
)
# The web UI (ui/) is bundled by the build with esbuild, so node and npm are build dependencies.
# The machine image may ship its own Node.js (with npm) outside dpkg; Debian's npm would conflict
# with it, so install Node.js from Debian only when there is none.
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
if [ "$want_test" = 1 ]; then
  # go tool pprof is the independent oracle for pprof round trips and merged totals.
  pkgs+=(wrk curl golang-go golang-github-google-pprof-dev nghttp2-client)
  # The zstd CLI compresses request bodies for the Content-Encoding: zstd tests.
  pkgs+=(zstd)
  # The openssl CLI makes the certificates of the TLS tests (and of scripts/loadgen.sh -t).
  pkgs+=(openssl)
  # The web UI's browser test (tests/node/ui.test.mjs) drives Debian's chromium headless.
  pkgs+=(chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI's build tools and libraries (esbuild, TypeScript, Preact, uPlot), pinned by
# ui/package-lock.json; the build bundles them into the binary.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci in ui"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

# npm test clients (Connect, gRPC), pinned by the committed package-lock.json.
if [ "$want_test" = 1 ]; then
  if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
    echo "install-deps: npm ci in tests/node"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
