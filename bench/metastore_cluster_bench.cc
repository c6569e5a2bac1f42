// AddBlock throughput of a 3-node metastore cluster on loopback (issue 5 target: >= 5,000
// blocks/s with batched proposals). Starts three real `embers -target=metastore` processes
// (metastore/client/local_cluster.h, default snapshot settings), waits for a leader, then keeps
// `-concurrency` AddBlock calls in flight through one MetastoreClient that knows all three
// nodes, until `-blocks` are acknowledged. Prints blocks/s, latency percentiles and the Raft
// entries used (so the batching factor is visible).
//
//   metastore_cluster_bench [-blocks=30000] [-concurrency=256] [-datasets=10] [-embers=PATH]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "base/strings.h"
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

// Keeps `concurrency` calls in flight until every block is acknowledged.
class Load {
 public:
  Load(MetastoreClient* client, const std::vector<v1::AddBlockRequest>* requests)
      : client_(client), requests_(requests), latency_us_(requests->size()) {}

  void Run(int concurrency) {
    start_ = std::chrono::steady_clock::now();
    for (int i = 0; i < concurrency; i++) Next();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return finished_ == requests_->size(); });
    elapsed_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  double elapsed() const { return elapsed_; }
  int failures() const { return failures_; }
  std::vector<double> latencies_ms() const {
    std::vector<double> out;
    for (int64_t us : latency_us_) out.push_back(us / 1000.0);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  void Next() {
    size_t i = next_++;
    if (i >= requests_->size()) return;
    auto sent = std::chrono::steady_clock::now();
    auto response = std::make_shared<v1::AddBlockResponse>();
    client_->AddBlock(CallContext{}, (*requests_)[i], response.get(),
                      [this, i, sent, response](absl::Status s) {
                        latency_us_[i] = std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - sent)
                                             .count();
                        if (!s.ok()) {
                          std::fprintf(stderr, "block %zu: %s\n", i, s.ToString().c_str());
                          failures_++;
                        }
                        Next();
                        std::lock_guard<std::mutex> lock(mu_);
                        if (++finished_ == requests_->size()) cv_.notify_all();
                      });
  }

  MetastoreClient* client_;
  const std::vector<v1::AddBlockRequest>* requests_;
  std::vector<int64_t> latency_us_;
  std::atomic<size_t> next_{0};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t finished_ = 0;
  std::chrono::steady_clock::time_point start_;
  double elapsed_ = 0;
};

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
  std::vector<v1::AddBlockRequest> requests(static_cast<size_t>(flags.blocks));
  size_t bytes = 0;
  for (int i = 0; i < flags.blocks; i++) {
    *requests[i].mutable_block() = Segment(i, flags.datasets, t0);
    bytes += requests[i].ByteSizeLong();
  }
  MetastoreClientOptions o;
  o.addresses = (*cluster)->grpc_addresses();
  absl::StatusOr<std::unique_ptr<MetastoreClient>> client = MetastoreClient::Create(o);
  if (!client.ok()) return 1;

  Load load(client->get(), &requests);
  load.Run(flags.concurrency);
  absl::StatusOr<v1::NodeInfoResponse> after = (*cluster)->NodeInfo(leader);
  std::vector<double> lat = load.latencies_ms();
  auto pct = [&](double p) { return lat[std::min(lat.size() - 1, size_t(p * lat.size()))]; };
  uint64_t entries =
      before.ok() && after.ok() ? after->last_log_index() - before->last_log_index() : 0;
  std::printf(
      "blocks=%d concurrency=%d datasets/block=%d avg_block_bytes=%zu\n"
      "elapsed_s=%.2f blocks_per_s=%.0f failures=%d\n"
      "latency_ms p50=%.2f p90=%.2f p99=%.2f max=%.2f\n"
      "raft_entries=%lu blocks_per_entry=%.1f\n",
      flags.blocks, flags.concurrency, flags.datasets, bytes / requests.size(), load.elapsed(),
      flags.blocks / load.elapsed(), load.failures(), pct(0.5), pct(0.9), pct(0.99), lat.back(),
      static_cast<unsigned long>(entries), entries ? double(flags.blocks) / double(entries) : 0.0);
  return load.failures() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace embers::metastore

int main(int argc, char** argv) { return embers::metastore::Main(argc, argv); }
