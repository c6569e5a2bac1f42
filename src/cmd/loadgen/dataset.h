// Dataset: the fixed set of profiles the query benchmark (issue 6, scripts/query_bench.sh) reads
// back, pushed through the write path by `embers-loadgen -mode=dataset`.
//
// One service, -series pods, one profile per -interval per pod over the -span ending at -end (by
// default: 20 × 6 h / 15 s = 28,800 profiles), all made from one pprof file (-file, a Go CPU
// profile) with perturbed sample values: -variants value variants are prepared once (as Workload
// does) and profile n uses variant hash(seed, n), so the same flags give the same bytes. Profiles
// go out in time order, as a live fleet sends them, so objects cover narrow time ranges; the pods'
// collection times are staggered within each interval.
//
// Two side outputs make the results checkable and comparable:
//  - a manifest (-manifest): one line per profile with its time and its per-sample-type totals,
//    from which the query timer (query_timer.h) computes the exact total every query must return;
//  - the raw profiles themselves (-write-dir, NNNNN.pb.gz in time order), for `go tool pprof
//  -proto`
//    to merge as the baseline.
#ifndef EMBERS_CMD_LOADGEN_DATASET_H_
#define EMBERS_CMD_LOADGEN_DATASET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/loadgen/push_source.h"
#include "cmd/loadgen/workload.h"

namespace embers::loadgen {

struct DatasetOptions {
  std::string file;                             // the pprof file every profile is made from
  std::string service = "bench-go";             // service_name
  std::string type_name = "process_cpu";        // __name__
  int series = 20;                              // pods, one series (label set) each
  absl::Duration span = absl::Hours(6);         // time covered
  absl::Duration interval = absl::Seconds(15);  // between two profiles of one series
  int64_t end_ms = 0;                           // end of the span, Unix ms (0: now)
  int variants = 16;                            // value variants of the file
  uint64_t seed = 1;
};

class Dataset : public PushSource {
 public:
  static absl::StatusOr<std::unique_ptr<Dataset>> Load(const DatasetOptions& options);

  // Profile n (0 ≤ n < size()): step n / series, pod n % series, at StartNanos() + step × interval
  // + pod × interval / series.
  size_t size() const { return size_; }
  int64_t TimeNanos(size_t n) const;
  int64_t end_ms() const { return end_ms_; }
  // The gzip'd pprof of profile n, as pushed.
  std::string ProfileBytes(size_t n) const;

  // Writes every profile to `dir` (created) as %05d.pb.gz, n in time order.
  absl::Status WriteProfiles(const std::string& dir) const;
  // Writes the manifest: "# end_ms=E span_ms=S profiles=N", "# time_ms <type>:<unit>...", then one
  // line per profile: its time in ms and its value total per sample type.
  absl::Status WriteManifest(const std::string& path) const;

  PushBody Next(std::mt19937_64& rng, int64_t now_nanos) override;
  void Refused(const PushBody& body, size_t index, const std::string& reason) override;
  int batch() const override { return 1; }
  std::string Describe() const override;
  std::vector<std::pair<std::string, std::string>> Skipped() const override;

 private:
  explicit Dataset(DatasetOptions options) : options_(std::move(options)) {}
  const ProfileFile::Variant& VariantOf(size_t n) const;

  DatasetOptions options_;
  std::vector<ProfileFile::Variant> variants_;
  std::vector<std::string> sample_types_;  // "type:unit" per sample type
  size_t size_ = 0;
  int64_t end_ms_ = 0;
  int64_t interval_nanos_ = 0;
  std::atomic<size_t> next_{0};
  mutable std::mutex mu_;                                     // guards refused_
  std::vector<std::pair<std::string, std::string>> refused_;  // the first few, for the summary
  size_t refused_total_ = 0;
};

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_DATASET_H_
