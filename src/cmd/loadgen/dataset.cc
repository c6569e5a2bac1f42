#include "cmd/loadgen/dataset.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/compression.h"
#include "base/strings.h"
#include "pprof/decoder.h"

namespace embers::loadgen {

namespace {

// SplitMix64: a well-mixed hash of the profile number, so the variant sequence has no pattern the
// server could benefit from and does not depend on which connection sends which profile.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dataset>> Dataset::Load(const DatasetOptions& options) {
  if (options.series < 1) return absl::InvalidArgumentError("-series must be >= 1");
  if (options.interval <= absl::ZeroDuration() || options.span < options.interval) {
    return absl::InvalidArgumentError("-interval must be > 0 and no longer than -span");
  }
  absl::StatusOr<std::string> bytes = ReadFile(options.file);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::string> plain = MaybeDecompress(*bytes, size_t{1} << 30);
  if (!plain.ok()) return plain.status();
  absl::StatusOr<pprof::Profile> profile = pprof::Decode(*plain, {.max_decompressed_size = 0});
  if (!profile.ok()) {
    return absl::InvalidArgumentError(StrCat(options.file, ": ", profile.status().message()));
  }

  std::unique_ptr<Dataset> d(new Dataset(options));
  std::mt19937_64 rng(options.seed);
  d->variants_ = PrepareVariants(*profile, options.variants, rng);
  for (const pprof::ValueType& t : profile->sample_types) {
    d->sample_types_.push_back(StrCat(profile->String(t.type), ":", profile->String(t.unit)));
  }
  const int64_t steps = options.span / options.interval;
  d->size_ = static_cast<size_t>(steps) * static_cast<size_t>(options.series);
  d->interval_nanos_ = absl::ToInt64Nanoseconds(options.interval);
  d->end_ms_ = options.end_ms > 0 ? options.end_ms
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  return d;
}

int64_t Dataset::TimeNanos(size_t n) const {
  const auto series = static_cast<size_t>(options_.series);
  const int64_t step = static_cast<int64_t>(n / series);
  const int64_t pod = static_cast<int64_t>(n % series);
  const int64_t start = end_ms_ * 1'000'000 - absl::ToInt64Nanoseconds(options_.span);
  return start + step * interval_nanos_ + pod * interval_nanos_ / options_.series;
}

const ProfileFile::Variant& Dataset::VariantOf(size_t n) const {
  return variants_[Mix(options_.seed ^ Mix(n)) % variants_.size()];
}

std::string Dataset::ProfileBytes(size_t n) const {
  return StampedGzip(VariantOf(n), TimeNanos(n));
}

absl::Status Dataset::WriteProfiles(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(StrCat("-write-dir ", dir, ": ", ec.message()));
  char name[32];
  for (size_t n = 0; n < size_; ++n) {
    std::snprintf(name, sizeof(name), "/%05zu.pb.gz", n);
    std::ofstream out(dir + name, std::ios::binary | std::ios::trunc);
    const std::string bytes = ProfileBytes(n);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return absl::InternalError(StrCat("cannot write ", dir, name));
  }
  return absl::OkStatus();
}

absl::Status Dataset::WriteManifest(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  out << "# end_ms=" << end_ms_ << " span_ms=" << absl::ToInt64Milliseconds(options_.span)
      << " profiles=" << size_ << "\n# time_ms";
  for (const std::string& t : sample_types_) out << ' ' << t;
  out << '\n';
  for (size_t n = 0; n < size_; ++n) {
    // Exact milliseconds when the time is a whole ms (the default stagger of 750 ms is).
    out << TimeNanos(n) / 1'000'000;
    for (int64_t total : VariantOf(n).totals) out << ' ' << total;
    out << '\n';
  }
  if (!out) return absl::InternalError(StrCat("cannot write -manifest ", path));
  return absl::OkStatus();
}

PushBody Dataset::Next(std::mt19937_64& rng, int64_t /*now_nanos*/) {
  PushBody body;
  const size_t n = next_.fetch_add(1, std::memory_order_relaxed);
  if (n >= size_) return body;
  const std::string pod = StrCat(options_.service, "-", n % static_cast<size_t>(options_.series));
  push::v1::PushRequest req;
  AddSeries(&req,
            {{"__name__", options_.type_name},
             {"service_name", options_.service},
             {"pod", pod},
             {"namespace", "bench"}},
            ProfileBytes(n), rng);
  req.SerializeToString(&body.bytes);
  body.profiles = 1;
  body.uncompressed_pprof = VariantOf(n).size + 10;
  body.files.push_back(n);
  return body;
}

void Dataset::Refused(const PushBody& body, size_t index, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (++refused_total_ <= 5) refused_.emplace_back(StrCat("profile ", body.files[index]), reason);
}

std::string Dataset::Describe() const {
  return StrCat("1 service x ", options_.series, " series x ", absl::FormatDuration(options_.span),
                " every ", absl::FormatDuration(options_.interval), " = ", size_, " profiles of ",
                std::filesystem::path(options_.file).filename().string(), " (",
                variants_.front().size / 1000, " KB, ", variants_.size(), " value variants)");
}

std::vector<std::pair<std::string, std::string>> Dataset::Skipped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

}  // namespace embers::loadgen
