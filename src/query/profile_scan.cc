#include "query/profile_scan.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "base/status.h"
#include "block/profile_reader.h"

namespace embers::query {
namespace {

// Bytes per ranged read of the directory: a small section is fetched whole at once; a chunk
// larger than this is fetched whole.
constexpr uint64_t kScanWindowBytes = 1 << 20;

// What the caller and its helpers share. The object and the directory reader belong to the
// caller: a helper touches them only while `active` counts it, and none starts after `closed`.
struct ScanState {
  const block::ProfileReader* directory = nullptr;
  std::function<std::unique_ptr<ProfileChunkSink>()> make_sink;
  std::vector<size_t> chunks;  // indices of the chunks in the time range
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};

  std::mutex mu;
  std::condition_variable idle;
  bool closed = false;
  int active = 0;
  absl::Status error;
  std::vector<std::unique_ptr<ProfileChunkSink>> sinks;

  bool Exhausted() const { return next.load(std::memory_order_relaxed) >= chunks.size(); }

  // Reads the claimed chunks one at a time into `sink` until none is left or a thread failed.
  absl::Status ScanClaimed(ProfileChunkSink* sink) {
    block::ProfileReader reader;
    reader.OpenSameSection(*directory);
    block::ProfileRows rows;
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= chunks.size()) break;
      reader.ReadOnlyChunks(chunks[i], chunks[i] + 1);
      rows.Clear();
      EMBERS_RETURN_IF_ERROR(block::ReadRemainingRows(&reader, &rows));
      if (rows.size() > 0) EMBERS_RETURN_IF_ERROR(sink->Consume(rows));
    }
    return absl::OkStatus();
  }

  // Runs one thread's share and files its sink (or its error).
  void Run() {
    std::unique_ptr<ProfileChunkSink> sink = make_sink();
    absl::Status st = ScanClaimed(sink.get());
    std::lock_guard<std::mutex> lock(mu);
    if (!st.ok()) {
      failed = true;
      if (error.ok()) error = std::move(st);
    }
    sinks.push_back(std::move(sink));
  }
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<ProfileChunkSink>>> ScanProfileChunks(
    const block::ObjectReader& object, int dataset, const ProfileScanOptions& options,
    WorkerPool* pool, const std::function<std::unique_ptr<ProfileChunkSink>()>& make_sink) {
  block::ProfileReader directory;
  EMBERS_RETURN_IF_ERROR(directory.Open(object, dataset,
                                        {.window_bytes = kScanWindowBytes,
                                         .min_time_ms = options.min_time_ms,
                                         .max_time_ms = options.max_time_ms}));
  auto state = std::make_shared<ScanState>();
  state->directory = &directory;
  state->make_sink = make_sink;
  for (size_t i = 0; i < directory.chunk_count(); ++i) {
    const block::ChunkEntry& c = directory.chunk(i);
    if (c.row_count > 0 && c.max_time_ms >= options.min_time_ms &&
        c.min_time_ms <= options.max_time_ms) {
      state->chunks.push_back(i);
    }
  }
  const size_t helpers = pool == nullptr || state->chunks.size() < 2
                             ? 0
                             : std::min<size_t>(static_cast<size_t>(std::max(options.helpers, 0)),
                                                state->chunks.size() - 1);
  for (size_t h = 0; h < helpers; ++h) {
    pool->Submit([state] {
      {
        std::lock_guard<std::mutex> lock(state->mu);
        if (state->closed || state->Exhausted()) return;
        ++state->active;
      }
      state->Run();
      std::lock_guard<std::mutex> lock(state->mu);
      --state->active;
      state->idle.notify_all();
    });
  }
  state->Run();
  std::unique_lock<std::mutex> lock(state->mu);
  state->closed = true;
  state->idle.wait(lock, [&] { return state->active == 0; });
  if (!state->error.ok()) return state->error;
  return std::move(state->sinks);
}

}  // namespace embers::query
