// Metastore snapshot costs (asynchronous snapshots): what runs on the Raft loop thread — the
// capture, and the first write to each shard or chunk a capture shares — against what runs on
// the libuv threadpool — the serialisation — and the snapshot size.
//
//  - BM_FsmSnapshot/N: N segments (16 shards, 3 datasets each, 7 days) plus a full dedup window
//    of 100,000 request ids applied through MetastoreFsm. Counters: capture_ms (MetastoreFsm::
//    Capture, median of 11), serialize_s, snapshot_MB, first_write_ms (max over the 16 shards of
//    the first AddBlock after a capture, which copies that shard's chunk list and last chunk),
//    next_write_ms (median of the following adds).
//  - BM_OneShardFirstWrite/N: N blocks in one shard. first_add_ms (copies the shard: one pointer
//    per 512 blocks), first_remove_ms (copies one more chunk), and flat_copy_ms: what copying a
//    flat pointer map of N blocks (the layout before chunking) costs.
//  - BM_DedupWindowCapture: 100,000 ids; capture_us (chunk pointers) against flat_copy_ms (a
//    copy of the id deque and result map, the layout before chunking).
//
//   build/bench/metastore_snapshot_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "metastore/index/block_index.h"
#include "metastore/raft/dedup_window.h"
#include "metastore/raft/metastore_fsm.h"
#include "metastore_bench_blocks.h"

namespace embers::metastore {
namespace {

using bench::Fill;
using bench::kHour;
using bench::kT0;
using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

v1::BlockMeta Segment(uint64_t seq, int64_t t, uint32_t shard) {
  return BlockBuilder(TestId(t, seq), "", shard)
      .Add(DatasetSpec{"tenant-0",
                       "svc-1",
                       t,
                       t + 1000,
                       {{{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                         {"service_name", "svc-1"}}}})
      .Build();
}

std::string AddCommand(const v1::BlockMeta& block) {
  v1::RaftCommand c;
  c.set_request_id("add_block/" + block.id());
  *c.mutable_add_block()->mutable_block() = block;
  return raft::MetastoreFsm::EncodeCommand(c);
}

void BM_FsmSnapshot(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const int64_t span = 7 * 24 * kHour;
  BlockIndex index;
  Fill(index, count, span, 3, 2);
  raft::MetastoreFsm fsm(&index);
  uint64_t seq = 1'000'000'000;
  for (uint64_t i = 1; i <= raft::MetastoreFsm::kDefaultDedupWindow; i++) {
    if (!fsm.Apply(i, AddCommand(Segment(++seq, kT0 + span, static_cast<uint32_t>(i % 16)))).ok()) {
      std::abort();
    }
  }
  std::vector<double> capture_ms;
  double serialize_s = 0, first_write_ms = 0;
  std::vector<double> next_write_ms;
  size_t bytes = 0;
  for (auto _ : state) {
    for (int i = 0; i < 11; i++) {
      auto t0 = Clock::now();
      std::unique_ptr<raft::StateCapture> c = fsm.Capture();
      capture_ms.push_back(MsSince(t0));
    }
    auto t0 = Clock::now();
    std::unique_ptr<raft::StateCapture> capture = fsm.Capture();
    capture_ms.push_back(MsSince(t0));
    // Writes while the capture is held: the first per shard copies, the next ones do not.
    for (uint32_t shard = 0; shard < 16; shard++) {
      for (int k = 0; k < 4; k++) {
        v1::BlockMeta b = Segment(++seq, kT0 + span, shard);
        auto w0 = Clock::now();
        if (!index.AddBlock(b).ok()) std::abort();
        double ms = MsSince(w0);
        if (k == 0) {
          first_write_ms = std::max(first_write_ms, ms);
        } else {
          next_write_ms.push_back(ms);
        }
      }
    }
    auto s0 = Clock::now();
    capture->Prepare();
    absl::StatusOr<std::vector<std::string_view>> snapshot = capture->Serialize();
    serialize_s = MsSince(s0) / 1000;
    if (!snapshot.ok()) std::abort();
    bytes = 0;
    for (std::string_view piece : *snapshot) bytes += piece.size();
  }
  state.counters["blocks"] = static_cast<double>(index.BlockCount());
  state.counters["capture_ms"] = Median(capture_ms);
  state.counters["capture_max_ms"] = *std::max_element(capture_ms.begin(), capture_ms.end());
  state.counters["serialize_s"] = serialize_s;
  state.counters["snapshot_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["first_write_ms"] = first_write_ms;
  state.counters["next_write_ms"] = Median(next_write_ms);
}
BENCHMARK(BM_FsmSnapshot)->Arg(1'000'000)->Arg(5'000'000)->Iterations(1)->Unit(benchmark::kSecond);

void BM_OneShardFirstWrite(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  BlockIndex index;
  // 1 h of data from kT0 stays inside one 6 h partition: one shard holds every block.
  Fill(index, count, kHour, 1, 3, /*shards=*/1);
  double first_add_ms = 0, first_remove_ms = 0, second_remove_ms = 0, capture_ms = 0;
  uint64_t seq = 2'000'000'000;
  for (auto _ : state) {
    auto c0 = Clock::now();
    std::unique_ptr<IndexCapture> capture = index.Capture();
    capture_ms = MsSince(c0);
    v1::BlockMeta b = Segment(++seq, kT0 + kHour, 0);
    auto t0 = Clock::now();
    if (!index.AddBlock(b).ok()) std::abort();
    first_add_ms = MsSince(t0);
    auto remove = [&](int i) {
      v1::ReplaceBlocksRequest req;
      req.mutable_tombstones()->set_name("job-" + std::to_string(i));
      req.mutable_tombstones()->add_blocks(TestId(kT0 + kHour * i / count, i + 1));
      auto r0 = Clock::now();
      if (!index.ReplaceBlocks(req).ok()) std::abort();
      return MsSince(r0);
    };
    first_remove_ms = remove(count / 2);
    second_remove_ms = remove(count / 4);
  }
  if (index.BlockCount() != static_cast<size_t>(count) - 1) std::abort();
  // The pointer map of one shard before chunking: a flat ordered map id -> block.
  absl::btree_map<BlockId, std::shared_ptr<const int>> flat;
  auto value = std::make_shared<const int>(0);
  for (int i = 0; i < count; i++) {
    flat.emplace(BlockId{static_cast<uint64_t>(i), static_cast<uint64_t>(i)}, value);
  }
  auto f0 = Clock::now();
  auto flat_copy = flat;
  double flat_copy_ms = MsSince(f0);
  benchmark::DoNotOptimize(flat_copy);
  state.counters["capture_ms"] = capture_ms;
  state.counters["first_add_ms"] = first_add_ms;
  state.counters["first_remove_ms"] = first_remove_ms;
  state.counters["second_remove_ms"] = second_remove_ms;
  state.counters["flat_copy_ms"] = flat_copy_ms;
}
BENCHMARK(BM_OneShardFirstWrite)->Arg(2'000'000)->Iterations(1)->Unit(benchmark::kSecond);

void BM_DedupWindowCapture(benchmark::State& state) {
  const size_t n = raft::MetastoreFsm::kDefaultDedupWindow;
  raft::DedupWindow window(n);
  std::deque<std::string> order;
  absl::flat_hash_map<std::string, absl::Status> results;
  for (size_t i = 0; i < n; i++) {
    std::string id = "add_block/" + TestId(kT0 + static_cast<int64_t>(i), i + 1);
    window.Remember(id, absl::OkStatus());
    order.push_back(id);
    results.emplace(id, absl::OkStatus());
  }
  double capture_us = 0, flat_copy_ms = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    raft::DedupWindow::Captured c = window.Capture();
    capture_us = MsSince(t0) * 1000;
    benchmark::DoNotOptimize(c);
    auto f0 = Clock::now();
    auto order_copy = order;
    auto results_copy = results;
    flat_copy_ms = MsSince(f0);
    benchmark::DoNotOptimize(order_copy);
    benchmark::DoNotOptimize(results_copy);
  }
  state.counters["capture_us"] = capture_us;
  state.counters["flat_copy_ms"] = flat_copy_ms;
}
BENCHMARK(BM_DedupWindowCapture)->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace embers::metastore

BENCHMARK_MAIN();
