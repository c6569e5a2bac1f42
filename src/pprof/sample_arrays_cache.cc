#include "pprof/sample_arrays_cache.h"

#include <utility>

namespace embers::pprof {

namespace {

// A 4 MiB profile (the default size limit) has at most ~4M location ids (32 MB); arrays grown
// by something bigger (a tool decoding without a limit) are not worth keeping.
constexpr size_t kMaxCachedBytes = 40 << 20;

struct SampleArrays {
  std::vector<Sample> samples;
  std::vector<uint64_t> location_ids;
  std::vector<int64_t> values;
  std::vector<Label> labels;
  bool full = false;
};

SampleArrays& Cache() {
  thread_local SampleArrays cache;
  return cache;
}

template <class T>
size_t CapacityBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

void RecycleSampleArrays(Profile& p) {
  SampleArrays& c = Cache();
  size_t bytes = CapacityBytes(p.samples) + CapacityBytes(p.location_ids) +
                 CapacityBytes(p.values) + CapacityBytes(p.labels);
  // Keep the bigger set: the next profile is as likely to be big as this one was.
  size_t cached = CapacityBytes(c.samples) + CapacityBytes(c.location_ids) +
                  CapacityBytes(c.values) + CapacityBytes(c.labels);
  if (bytes > kMaxCachedBytes || (c.full && bytes <= cached)) {
    p.samples = {};
    p.location_ids = {};
    p.values = {};
    p.labels = {};
    return;
  }
  c.samples = std::exchange(p.samples, {});
  c.location_ids = std::exchange(p.location_ids, {});
  c.values = std::exchange(p.values, {});
  c.labels = std::exchange(p.labels, {});
  c.full = true;
}

void ReuseSampleArrays(Profile& p) {
  SampleArrays& c = Cache();
  if (!c.full) return;
  p.samples = std::move(c.samples);
  p.location_ids = std::move(c.location_ids);
  p.values = std::move(c.values);
  p.labels = std::move(c.labels);
  p.samples.clear();
  p.location_ids.clear();
  p.values.clear();
  p.labels.clear();
  c = SampleArrays();
}

}  // namespace embers::pprof
