#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + libFuzzer) in their own build directory and runs
# each for a bounded time, seeded from ../shared/testdata. Exits non-zero on any crash, sanitizer
# report, leak, per-input timeout or out-of-memory (the reproducer is kept under <build>/artifacts).
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]     (default: 60 s, every target)
#
#   make fuzz   runs every target for 300 s;  make test  runs a short pass after ctest.
#
# Environment:
#   FUZZ_BUILD_DIR   build directory (default build-fuzz); the corpus each target grows is kept in
#                    <build>/corpus/<target> and reused by the next run
#   FUZZ_JOBS        parallel compile jobs (default: nproc)
#   FUZZ_SKIP        targets to leave out, space-separated (e.g. "otlp_fuzzer")
#   EMBERS_TESTDATA  seed data (default ../shared/testdata); missing data just means no seeds
#
# Inputs that once crashed a target live in tests/fuzz/regressions/<target>/ and are replayed by
# every run (add the reproducer there when a finding is fixed; see tests/fuzz/README.md).
# Reproduce a failure:  <build>/src/.../<target> <build>/artifacts/<target>-crash-<sha1>
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=60
if [ $# -gt 0 ]; then
  case "$1" in
    ''|*[!0-9]*) ;;                     # not a number: a target name
    *) secs=$1; shift ;;
  esac
fi

all_targets=(pprof_decode_fuzzer compression_fuzzer jfr_fuzzer
  fuzz_ingest_folded fuzz_ingest_trie fuzz_ingest_tree fuzz_ingest_speedscope
  fuzz_ingest_multipart fuzz_ingest_app_name fuzz_ingest_perf_script fuzz_ingest_flamebearer
  otlp_fuzzer block_object_fuzzer rpc_protocol_fuzzer
  fsm_snapshot_fuzzer s3_xml_fuzzer azure_xml_fuzzer upload_format_fuzzer)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
if [ -n "${FUZZ_SKIP:-}" ]; then
  kept=()
  for t in "${targets[@]}"; do
    case " $FUZZ_SKIP " in *" $t "*) echo "fuzz: skipping $t (FUZZ_SKIP)" ;; *) kept+=("$t") ;; esac
  done
  targets=("${kept[@]}")
fi
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in *" $t "*) ;; *) echo "fuzz: unknown target $t (known: ${all_targets[*]})" >&2; exit 2 ;; esac
done

build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
testdata=${EMBERS_TESTDATA:-$root/../shared/testdata}
data=$testdata/pyroscope

for tool in clang-14 clang++-14 cmake ninja; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found; run scripts/install-deps.sh" >&2; exit 1; }
done

# -O1 keeps asserts (no -DNDEBUG) and is fast to compile; line tables symbolise ASan reports.
flags="-O1 -gline-tables-only -fno-omit-frame-pointer"
t0=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  mkdir -p "$build"
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
    -DEMBERS_FUZZ=ON -DEMBERS_BUILD_TESTS=OFF -DEMBERS_BUILD_BENCH=OFF -DEMBERS_WERROR=OFF \
    >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; rm -f "$build/CMakeCache.txt"; exit 1; }
fi
echo "fuzz: building ${targets[*]} in $build"
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
echo "fuzz: build took $(( $(date +%s) - t0 )) s"

# --- seed corpora (read-only inputs; the grown corpus lives in $build/corpus/<target>) -----------
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$build/corpus" "$build/artifacts"

# add_seed <target> <file> [max-bytes]: copy (gunzip'ed if gzip) when not larger than max-bytes.
add_seed() {
  local target=$1 file=$2 max=${3:-262144} out
  [ -f "$file" ] || return 0
  mkdir -p "$seeds/$target"
  out="$seeds/$target/$(basename "$file" .gz)"
  if [ "$(head -c2 "$file" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then gzip -dc "$file" >"$out"; else cp "$file" "$out"; fi
  if [ "$(stat -c %s "$out")" -gt "$max" ]; then rm -f "$out"; fi
}
# seed_text <target> <name> <printf-format> [args]: a small hand-made seed.
seed_text() {
  local target=$1 name=$2 fmt=$3
  shift 3
  mkdir -p "$seeds/$target"
  # shellcheck disable=SC2059
  printf "$fmt" "$@" >"$seeds/$target/$name"
}

for f in "$data"/pprof/* "$data"/ingest-multipart/*.pprof "$data"/jfr/*.expected.*.pb.gz; do
  add_seed pprof_decode_fuzzer "$f"
done
# The compressed forms too, so the gzip sniffing and the size guard are exercised.
for f in "$data"/pprof/go_cpu_tiny.pb.gz "$data"/pprof/nodejs_heap.pb.gz; do
  [ -f "$f" ] && mkdir -p "$seeds/pprof_decode_fuzzer" && cp "$f" "$seeds/pprof_decode_fuzzer/"
done

# Compressed as they arrive: gzip'd profiles, two members back to back, one zlib stream.
mkdir -p "$seeds/compression_fuzzer"
for f in "$data"/pprof/go_cpu_tiny.pb.gz "$data"/pprof/nodejs_heap.pb.gz; do
  [ -f "$f" ] && cp "$f" "$seeds/compression_fuzzer/"
done
printf 'two members' | gzip -c >"$seeds/compression_fuzzer/member1"
cat "$seeds/compression_fuzzer/member1" "$seeds/compression_fuzzer/member1" >"$seeds/compression_fuzzer/members2"
python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(b"zlib wrapped " * 50))' \
  >"$seeds/compression_fuzzer/zlib" 2>/dev/null || true

for f in "$data"/jfr/*.jfr.gz; do add_seed jfr_fuzzer "$f" 1048576; done
for f in "$data"/jfr/*.labels.pb.gz; do
  [ -f "$f" ] || continue
  mkdir -p "$seeds/jfr_fuzzer"
  { printf L; gzip -dc "$f"; } >"$seeds/jfr_fuzzer/L-$(basename "$f" .gz)"
done

add_seed fuzz_ingest_folded "$data/folded/java_itimer_small.folded"
head -n 200 "$data/folded/java_itimer_small.lines" 2>/dev/null >"$seeds/fuzz_ingest_folded-lines.tmp" || true
[ -s "$seeds/fuzz_ingest_folded-lines.tmp" ] && mv "$seeds/fuzz_ingest_folded-lines.tmp" "$seeds/fuzz_ingest_folded/itimer.lines"
rm -f "$seeds/fuzz_ingest_folded-lines.tmp"
seed_text fuzz_ingest_folded small 'main;work;compute 10\nmain;idle 3\nmain;work 1\n'
seed_text fuzz_ingest_perf_script two 'java 12688 [002] 6544038.708352: cpu-clock:\n\tffffffff9e8b0bfa finish_task_switch+0x7a ([kernel.kallsyms])\n\t    7f2fd3d1d0d5 Interpreter (/usr/lib/jvm/libjvm.so)\n\nswapper     0/0 [000] 1.0: cpu-clock:\n\tffff halt (k)\n\n'
seed_text fuzz_ingest_flamebearer single '{"version":1,"flamebearer":{"names":["total","main","a","b"],"levels":[[0,10,0,0],[0,10,2,1],[0,5,5,2,0,3,3,3]],"numTicks":10,"maxSelf":5},"metadata":{"format":"single","name":"cpu","units":"samples"}}'

# transport trie: per node uvarint label length, label bytes, uvarint value, uvarint child count.
seed_text fuzz_ingest_trie small '\x00\x00\x01\x05main;\x00\x02\x04work\x07\x00\x05idle;\x00\x01\x02gc\x02\x00'
# og tree: unnamed root, then per node uvarint name length, name, uvarint self, uvarint child count.
seed_text fuzz_ingest_tree small '\x00\x00\x01\x04main\x00\x02\x04work\x07\x00\x04idle\x03\x00'

for f in "$data"/speedscope/*.json; do add_seed fuzz_ingest_speedscope "$f"; done

# embers-cli upload's format detection: one file of each format, gzip kept as it is.
mkdir -p "$seeds/upload_format_fuzzer"
for f in "$data/pprof/go_cpu_tiny.pb.gz" "$data/pprof/go_heap_uncompressed.pb" \
  "$data/jfr/kafka_cpu.jfr.gz" "$data/speedscope/simple.speedscope.json"; do
  if [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 262144 ]; then cp "$f" "$seeds/upload_format_fuzzer/"; fi
done
seed_text upload_format_fuzzer folded 'main;work;compute 10\nmain;idle 3\n'

if [ -f "$data/ingest-multipart/req_4_mutex.pprof" ]; then
  mkdir -p "$seeds/fuzz_ingest_multipart"
  {
    printf 'multipart/form-data; boundary=b0undary\n'
    printf -- '--b0undary\r\nContent-Disposition: form-data; name="profile"; filename="profile"\r\n'
    printf 'Content-Type: application/octet-stream\r\n\r\n'
    cat "$data/ingest-multipart/req_4_mutex.pprof"
    printf -- '\r\n--b0undary\r\nContent-Disposition: form-data; name="sample_type_config"; filename="sample_type_config.json"\r\n\r\n'
    cat "$data/ingest-multipart/req_4_mutex.sample_type_config.json"
    printf -- '\r\n--b0undary--\r\n'
  } >"$seeds/fuzz_ingest_multipart/req_4_mutex"
fi
for f in "$data"/ingest-multipart/*.sample_type_config.json; do add_seed fuzz_ingest_multipart "$f"; done

seed_text fuzz_ingest_app_name full 'my.app.cpu{env=prod,region=eu-west-1,service_name=x}'
seed_text fuzz_ingest_app_name alloc 'goapp.alloc_space{}'
seed_text fuzz_ingest_app_name relative 'now-1h'
seed_text fuzz_ingest_app_name unix_ms '1700000000123'

add_seed otlp_fuzzer "$data/otlp/otel-ebpf-profile.ExportProfilesServiceRequest.pb"

# Recipes (first byte 2, see src/block/block_object_fuzzer.cc): objects the segment-writer's code
# writes, then damaged at the offsets that follow; the fuzzer grows raw objects from them.
seed_text block_object_fuzzer recipe-small '\x02\x01\x02\x05\x00\x10\x02\x01\x02\x01\x02\x05\x01\x07\x01\x01\x03\x09\x02\x03'
seed_text block_object_fuzzer recipe-spans '\x02\x00\x01\x09\x01\x20\x03\x01\x03\x01\x02\x03\x11\x05\x02\x04\x05\x06\x22\x07\x02\x02\x05\x00\x00\x40\x10'
seed_text block_object_fuzzer recipe-damaged '\x83\x01\x04\x10\x03\x05\x02\x00\x01\x03\x01\x02\x03\x0a\x00\x30\x01\x00\x50\x20\x00\x70\x04'
seed_text block_object_fuzzer chunk '\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x01\x05\x02\x03\x01\x02\x04\x06\x08\x00\x00'
# rpc_protocol_fuzzer: selector byte, then a body (one gRPC envelope of a 2-byte message; Connect JSON).
seed_text rpc_protocol_fuzzer grpc '\x02\x00\x00\x00\x00\x02\x08\x01'
seed_text rpc_protocol_fuzzer connect-json '\x01\x00\x00\x00\x00\x02{}'
# fsm_snapshot_fuzzer: a version-2 snapshot with one section, "h" (its checksum left 0, for the
# fuzzer to find), and recipe bytes (see fsm_snapshot_fuzzer.cc).
seed_text fsm_snapshot_fuzzer v2 'EMFS\x02\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00h\x00\x00\x00\x00\x00\x00\x00\x00'
seed_text fsm_snapshot_fuzzer recipe '\x07header and index bytes'

# s3_xml_fuzzer: answers of an S3 store (AWS's and s3rver's forms).
seed_text s3_xml_fuzzer list '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><Contents><Key>a%%2Fb+c</Key><ETag>&quot;x&quot;</ETag></Contents><NextContinuationToken>t/1=</NextContinuationToken></ListBucketResult>'
seed_text s3_xml_fuzzer error '<Error><Code>NoSuchKey</Code><Message>a &amp; b &#x41;</Message><RequestId>R</RequestId></Error>'
seed_text s3_xml_fuzzer initiate '<!-- c --><InitiateMultipartUploadResult><UploadId><![CDATA[u<1>]]></UploadId></InitiateMultipartUploadResult>'

# azure_xml_fuzzer: answers of Azure Blob Storage and azurite, and connection strings.
seed_text azure_xml_fuzzer list '\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c"><Prefix>s</Prefix><MaxResults>2</MaxResults><Blobs><Blob><Name>seg &amp; ü</Name><Properties><Content-Length>9</Content-Length></Properties></Blob></Blobs><NextMarker>m/1</NextMarker></EnumerationResults>'
seed_text azure_xml_fuzzer error '<Error><Code>AuthenticationFailed</Code><Message>Server failed.\nRequestId:r\nTime:t</Message><AuthenticationErrorDetail>mac</AuthenticationErrorDetail></Error>'
seed_text azure_xml_fuzzer connection 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;'
# --- run -------------------------------------------------------------------------------------------
failed=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
  # Inputs that once crashed a target (tests/fuzz/regressions/<target>): every run replays them.
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  log=$build/$t.log
  bin=$(find "$build/src" -type f -name "$t" -perm -u+x | head -n 1)
  [ -n "$bin" ] || { echo "fuzz: $t was not built (no executable under $build/src)" >&2; exit 1; }
  echo "fuzz: $t for ${secs} s ($(find "${dirs[@]}" -type f | wc -l) inputs to start from)"
  # -timeout: one input taking > 10 s is a hang; -rss_limit_mb: a blow-up is a failure too.
  # Only the first corpus directory is written to; the seed directory stays as generated.
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dirs[@]}" >"$log" 2>&1; then
    echo "fuzz: $t OK: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
      "corpus $(find "$corpus" -type f | wc -l) files"
  else
    echo "fuzz: $t FAILED (log: $log); last lines:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers in $build/artifacts)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs} s each without a finding ($(( $(date +%s) - t0 )) s in total)"
