// AddBlock throughput of a 3-node metastore cluster on loopback (issue 5 target: >= 5,000
// blocks/s with batched proposals). Starts three real `embers -target=metastore` processes
// (metastore/client/local_cluster.h, default snapshot settings), waits for a leader, then keeps
// `-concurrency` AddBlock calls in flight through one MetastoreClient that knows all three
// nodes, until `-blocks` are acknowledged. Prints blocks/s, latency percentiles and the Raft
// entries used (so the batching factor is visible).
//
//   metastore_cluster_bench [-blocks=30000] [-concurrency=256] [-datasets=10] [-embers=PATH]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/strings.h"
#include "metastore/client/add_block_load.h"
#include "metastore/client/local_cluster.h"
#include "metastore/index/test_blocks.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

// A level-0 segment: `datasets` services of 3 tenants, two profile types each.
v1::BlockMeta Segment(int i, int datasets, int64_t t0) {
  int64_t t = t0 + i * 10;
  BlockBuilder b(TestId(t, static_cast<uint64_t>(i) + 1), "", static_cast<uint32_t>(i % 16));
  for (int d = 0; d < datasets; d++) {
    std::string tenant = StrCat("tenant-", d % 3);
    std::string service = StrCat("svc-", (i * datasets + d) % 240);
    b.Add(DatasetSpec{
        tenant,
        service,
        t,
        t + 500,
        {{{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
          {"service_name", service}},
         {{"__profile_type__", "memory:alloc_space:bytes:space:bytes"}, {"service_name", service}}},
        4096});
  }
  return b.Build();
}

struct Flags {
  int blocks = 30000;
  int concurrency = 256;
  int datasets = 10;
  std::string embers = EMBERS_BIN_PATH;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    int64_t v = 0;
    auto value = [&](std::string_view name) -> std::optional<std::string_view> {
      std::string prefix = StrCat("-", name, "=");
      if (a.substr(0, prefix.size()) != prefix) return std::nullopt;
      return a.substr(prefix.size());
    };
    if (auto s = value("blocks"); s && ParseInt64(*s, &v)) {
      f.blocks = static_cast<int>(v);
    } else if (auto s = value("concurrency"); s && ParseInt64(*s, &v)) {
      f.concurrency = static_cast<int>(v);
    } else if (auto s = value("datasets"); s && ParseInt64(*s, &v)) {
      f.datasets = static_cast<int>(v);
    } else if (auto s = value("embers")) {
      f.embers = std::string(*s);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  return f;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  absl::StatusOr<std::unique_ptr<LocalCluster>> cluster =
      LocalCluster::Start({.embers_bin = flags.embers, .nodes = 3, .extra_args = {}});
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  int leader = (*cluster)->WaitLeader(absl::Seconds(30));
  if (leader < 0) {
    std::fprintf(stderr, "no leader:\n%s\n", (*cluster)->LogTail(0).c_str());
    return 1;
  }
  absl::StatusOr<v1::NodeInfoResponse> before = (*cluster)->NodeInfo(leader);

  int64_t t0 = absl::ToUnixMillis(absl::Now()) - 3600 * 1000;
  auto request = [&](size_t i) {
    v1::AddBlockRequest r;
    *r.mutable_block() = Segment(static_cast<int>(i), flags.datasets, t0);
    return r;
  };
  const size_t block_bytes = request(0).ByteSizeLong();
  MetastoreClientOptions o;
  o.addresses = (*cluster)->grpc_addresses();
  absl::StatusOr<std::unique_ptr<MetastoreClient>> client = MetastoreClient::Create(o);
  if (!client.ok()) return 1;

  AddBlockLoad load(client->get(), static_cast<size_t>(flags.blocks), request);
  load.Run(flags.concurrency);
  for (size_t i = 0; i < load.calls().size(); i++) {
    if (!load.calls()[i].status.ok()) {
      std::fprintf(stderr, "block %zu: %s\n", i, load.calls()[i].status.ToString().c_str());
    }
  }
  absl::StatusOr<v1::NodeInfoResponse> after = (*cluster)->NodeInfo(leader);
  std::vector<double> ms;
  for (const AddBlockLoad::Call& c : load.calls()) ms.push_back(c.latency_ms());
  LatencySummary lat = Summarize(std::move(ms));
  uint64_t entries =
      before.ok() && after.ok() ? after->last_log_index() - before->last_log_index() : 0;
  std::printf(
      "blocks=%d concurrency=%d datasets/block=%d avg_block_bytes=%zu\n"
      "elapsed_s=%.2f blocks_per_s=%.0f failures=%d\n"
      "latency_ms p50=%.2f p90=%.2f p99=%.2f max=%.2f\n"
      "raft_entries=%lu blocks_per_entry=%.1f\n",
      flags.blocks, flags.concurrency, flags.datasets, block_bytes, load.elapsed_s(),
      flags.blocks / load.elapsed_s(), load.failures(), lat.p50, lat.p90, lat.p99, lat.max,
      static_cast<unsigned long>(entries), entries ? double(flags.blocks) / double(entries) : 0.0);
  return load.failures() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace embers::metastore

int main(int argc, char** argv) { return embers::metastore::Main(argc, argv); }
