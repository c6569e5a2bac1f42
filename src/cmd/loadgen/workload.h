// Workload: the profiles embers-loadgen pushes in -mode=push (the write-path load test), and the
// push.v1.PushRequest bodies built from them.
//
// Every push must carry a current timestamp (the distributor rejects profiles older than
// -validation.reject-older-than, 1 h by default) and be gzip'd the way SDKs send it, but
// re-encoding and re-compressing a 100 KB pprof per push would cost the load generator more CPU
// than the server spends on it (both share the same 2 cores). So each pprof file is prepared once:
//
//   decode → perturb sample values (a few variants) → drop time_nanos → encode → raw deflate
//
// and a push only splices a fresh time_nanos in front of the pre-compressed bytes
// (gzip header + one stored deflate block with the 10-byte field 9 + the pre-deflated rest + a
// CRC32 combined arithmetically). A protobuf message may list its fields in any order, so the
// result is a valid pprof whose time_nanos is now. Labels (service_name, pod, __name__, ...) live
// in the PushRequest, not in the pprof, so varying them is free.
#ifndef EMBERS_CMD_LOADGEN_WORKLOAD_H_
#define EMBERS_CMD_LOADGEN_WORKLOAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/loadgen/push_source.h"
#include "pprof/profile.h"
#include "push/v1/push.pb.h"

namespace embers::loadgen {

struct WorkloadOptions {
  std::string data_dir;           // directory of pprof files (.pb, .pb.gz)
  int services = 50;              // service_name pool size
  int pods_per_service = 4;       // pod label pool, per service
  int variants = 4;               // value-perturbed variants per file
  int64_t max_profile_bytes = 0;  // skip files larger than this uncompressed (0: no limit)
  int batch = 1;                  // profiles (series) per PushRequest
  uint64_t seed = 1;
};

// One pprof file, prepared for cheap re-stamping.
struct ProfileFile {
  std::string name;       // file name, for reports
  std::string language;   // "go", "java", ...: the file name up to the first '_'
  std::string type_name;  // __name__ label: process_cpu, memory, wall
  // Variants whose time_nanos can be rewritten (empty when the file could not be decoded: it is
  // then sent as is, so the server's verdict on it is reported).
  struct Variant {
    std::string deflated;         // raw deflate stream of the encoded profile without time_nanos
    uint32_t crc = 0;             // CRC32 of the uncompressed bytes
    size_t size = 0;              // uncompressed size
    std::vector<int64_t> totals;  // sum of the sample values, per sample type
  };
  std::vector<Variant> variants;
  std::string raw;  // the file's own bytes, used when `variants` is empty
  size_t raw_uncompressed = 0;
  // Set after a 4xx (other than 429) on this file: it is no longer pushed.
  std::atomic<bool> skipped{false};
};

// Variant 0 of `profile` with its own values, then n - 1 with every positive sample value scaled by
// a random factor in [0.5, 1.5) (at least 1), each without time_nanos and prepared for StampedGzip.
std::vector<ProfileFile::Variant> PrepareVariants(const pprof::Profile& profile, int n,
                                                  std::mt19937_64& rng);

class Workload : public PushSource {
 public:
  // Reads and prepares every file of options.data_dir. Fails when none is usable.
  static absl::StatusOr<std::unique_ptr<Workload>> Load(const WorkloadOptions& options);

  // Builds the next request: a random service (whose language picks the files), a random pod of
  // it, and `batch` profiles stamped with `now_nanos`. Thread-safe: `rng` is the caller's.
  // body.files holds indexes into files(). Never ends unless every file was refused.
  PushBody Next(std::mt19937_64& rng, int64_t now_nanos) override;

  // Stops pushing the refused file (the first refusal is kept and printed to stderr).
  void Refused(const PushBody& body, size_t index, const std::string& reason) override;
  // Files skipped so far with the server's message, for the final report.
  std::vector<std::pair<std::string, std::string>> Skipped() const override;
  std::string Describe() const override;

  const std::vector<std::unique_ptr<ProfileFile>>& files() const { return files_; }
  size_t usable_files() const;
  int batch() const override { return options_.batch < 1 ? 1 : options_.batch; }

 private:
  explicit Workload(WorkloadOptions options) : options_(std::move(options)) {}
  size_t PickFile(std::mt19937_64& rng, size_t service) const;

  WorkloadOptions options_;
  std::vector<std::unique_ptr<ProfileFile>> files_;
  std::vector<std::string> languages_;                  // distinct, sorted
  std::vector<std::vector<size_t>> files_by_language_;  // parallel to languages_
  mutable std::mutex mu_;                               // guards skipped_
  std::vector<std::pair<std::string, std::string>> skipped_;
};

// The bytes of a file.
absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// Appends to `req` one series with `labels` and one sample: `raw_profile` with a random UUID id, as
// SDKs set RawSample.ID.
void AddSeries(push::v1::PushRequest* req,
               std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
               std::string raw_profile, std::mt19937_64& rng);

// The gzip member holding `time_nanos` (field 9) followed by the variant's bytes.
std::string StampedGzip(const ProfileFile::Variant& v, int64_t time_nanos);

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_WORKLOAD_H_
