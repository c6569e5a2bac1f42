#include "cmd/loadgen/workload.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/compression.h"
#include "base/strings.h"
#include "pprof/decoder.h"
#include "pprof/encoder.h"

namespace embers::loadgen {

namespace {

// Raw deflate (no zlib/gzip wrapper), so the stream can be spliced into a gzip member.
std::string RawDeflate(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);  // the buffer is deflateBound: one call finishes the stream
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// __name__ as the SDKs and Alloy set it, guessed from the file name.
std::string TypeNameOf(std::string_view file) {
  if (file.find("heap") != file.npos || file.find("alloc") != file.npos) return "memory";
  if (file.find("wall") != file.npos) return "wall";
  return "process_cpu";
}

// A 128-bit random id in UUID text form, as SDKs put in RawSample.ID.
std::string RandomUuid(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t words[2] = {rng(), rng()};
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back(kHex[(words[i / 16] >> (4 * (i % 16))) & 0xf]);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot open ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AddSeries(push::v1::PushRequest* req,
               std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
               std::string raw_profile, std::mt19937_64& rng) {
  push::v1::RawProfileSeries* series = req->add_series();
  for (const auto& [name, value] : labels) {
    auto* l = series->add_labels();
    l->set_name(std::string(name));
    l->set_value(std::string(value));
  }
  push::v1::RawSample* sample = series->add_samples();
  sample->set_raw_profile(std::move(raw_profile));
  sample->set_id(RandomUuid(rng));
}

std::string StampedGzip(const ProfileFile::Variant& v, int64_t time_nanos) {
  // Field 9 (time_nanos), varint: tag 0x48 then at most 10 bytes.
  char field[11];
  size_t n = 0;
  field[n++] = 0x48;
  for (uint64_t t = static_cast<uint64_t>(time_nanos);; t >>= 7) {
    if (t < 0x80) {
      field[n++] = static_cast<char>(t);
      break;
    }
    field[n++] = static_cast<char>(t | 0x80);
  }
  std::string out;
  out.reserve(10 + 5 + n + v.deflated.size() + 8);
  // gzip header: magic, CM=deflate, no flags, no mtime, XFL=0, OS=unknown.
  out.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  // A non-final stored block (BFINAL=0, BTYPE=00, padded to the byte) holding the field...
  out.push_back('\0');
  out.push_back(static_cast<char>(n));
  out.push_back('\0');
  out.push_back(static_cast<char>(~n));
  out.push_back('\xff');
  out.append(field, n);
  // ...then the pre-compressed rest, which starts byte-aligned and ends with the final block.
  out.append(v.deflated);
  const uint32_t crc = static_cast<uint32_t>(
      crc32_combine(crc32(0, reinterpret_cast<const Bytef*>(field), static_cast<uInt>(n)), v.crc,
                    static_cast<z_off_t>(v.size)));
  PutLe32(&out, crc);
  PutLe32(&out, static_cast<uint32_t>(n + v.size));
  return out;
}

std::vector<ProfileFile::Variant> PrepareVariants(const pprof::Profile& profile, int n,
                                                  std::mt19937_64& rng) {
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  const size_t types = profile.sample_types.size();
  std::vector<ProfileFile::Variant> out;
  for (int i = 0; i < std::max(1, n); ++i) {
    pprof::Profile copy = profile;  // shares the immutable string bytes
    copy.time_nanos = 0;            // omitted by the encoder; StampedGzip prepends it
    if (i > 0) {                    // variant 0 keeps the original values
      for (int64_t& value : copy.values) {
        if (value > 0) value = std::max<int64_t>(1, std::llround(value * factor(rng)));
      }
    }
    std::vector<int64_t> totals(types, 0);
    for (const pprof::Sample& sample : copy.samples) {
      const std::span<const int64_t> values = copy.SampleValues(sample);
      for (size_t t = 0; t < types && t < values.size(); ++t) totals[t] += values[t];
    }
    const std::string encoded = pprof::Encode(copy);
    out.push_back({.deflated = RawDeflate(encoded),
                   .crc = Crc32(encoded),
                   .size = encoded.size(),
                   .totals = std::move(totals)});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Workload>> Workload::Load(const WorkloadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(options.data_dir, ec)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  if (ec) return absl::NotFoundError(StrCat("-data-dir ", options.data_dir, ": ", ec.message()));
  std::sort(paths.begin(), paths.end());

  std::unique_ptr<Workload> w(new Workload(options));
  std::mt19937_64 rng(options.seed);
  for (const fs::path& path : paths) {
    absl::StatusOr<std::string> bytes = ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<std::string> plain = MaybeDecompress(*bytes, size_t{1} << 30);
    if (!plain.ok()) continue;  // not a compressed pprof: ignore (README files and the like)
    if (options.max_profile_bytes > 0 &&
        plain->size() > static_cast<size_t>(options.max_profile_bytes)) {
      continue;
    }
    auto file = std::make_unique<ProfileFile>();
    file->name = path.filename().string();
    file->language = file->name.substr(0, file->name.find('_'));
    file->type_name = TypeNameOf(file->name);
    file->raw_uncompressed = plain->size();
    absl::StatusOr<pprof::Profile> profile = pprof::Decode(*plain, {.max_decompressed_size = 0});
    if (!profile.ok()) {
      // Sent as is: the server's answer (most likely a 400) is reported and the file skipped.
      file->raw = std::move(*bytes);
    } else {
      file->variants = PrepareVariants(*profile, options.variants, rng);
    }
    w->files_.push_back(std::move(file));
  }
  if (w->files_.empty()) {
    return absl::InvalidArgumentError(
        StrCat("no usable pprof files in ", options.data_dir,
               options.max_profile_bytes > 0 ? " (check -max-profile-bytes)" : ""));
  }
  for (size_t i = 0; i < w->files_.size(); ++i) {
    const std::string& lang = w->files_[i]->language;
    auto it = std::lower_bound(w->languages_.begin(), w->languages_.end(), lang);
    const size_t at = static_cast<size_t>(it - w->languages_.begin());
    if (it == w->languages_.end() || *it != lang) {
      w->languages_.insert(it, lang);
      w->files_by_language_.insert(w->files_by_language_.begin() + static_cast<ptrdiff_t>(at),
                                   std::vector<size_t>());
    }
    w->files_by_language_[at].push_back(i);
  }
  return w;
}

size_t Workload::usable_files() const {
  size_t n = 0;
  for (const auto& f : files_) n += f->skipped.load(std::memory_order_relaxed) ? 0 : 1;
  return n;
}

// A service always runs one language (its files), as a real fleet does; a language whose files
// were all rejected falls back to any usable file. Returns files_.size() when none is left.
size_t Workload::PickFile(std::mt19937_64& rng, size_t service) const {
  const std::vector<size_t>& own = files_by_language_[service % files_by_language_.size()];
  const size_t start = rng() % own.size();
  for (size_t k = 0; k < own.size(); ++k) {
    const size_t i = own[(start + k) % own.size()];
    if (!files_[i]->skipped.load(std::memory_order_relaxed)) return i;
  }
  const size_t any = rng() % files_.size();
  for (size_t k = 0; k < files_.size(); ++k) {
    const size_t i = (any + k) % files_.size();
    if (!files_[i]->skipped.load(std::memory_order_relaxed)) return i;
  }
  return files_.size();
}

PushBody Workload::Next(std::mt19937_64& rng, int64_t now_nanos) {
  const size_t service = rng() % static_cast<size_t>(std::max(1, options_.services));
  const size_t pod = rng() % static_cast<size_t>(std::max(1, options_.pods_per_service));
  const std::string service_name =
      StrCat("loadgen-", languages_[service % languages_.size()], "-", service);
  push::v1::PushRequest req;
  PushBody body;
  for (int b = 0; b < std::max(1, options_.batch); ++b) {
    const size_t fi = PickFile(rng, service);
    if (fi == files_.size()) break;
    const ProfileFile& f = *files_[fi];
    std::string raw;
    if (f.variants.empty()) {
      raw = f.raw;
      body.uncompressed_pprof += f.raw_uncompressed;
    } else {
      const ProfileFile::Variant& v = f.variants[rng() % f.variants.size()];
      // Profiles in one request get distinct timestamps, as separate collections would.
      raw = StampedGzip(v, now_nanos + b);
      body.uncompressed_pprof += v.size + 10;
    }
    AddSeries(&req,
              {{"__name__", f.type_name},
               {"service_name", service_name},
               {"pod", StrCat(service_name, "-", pod)},
               {"namespace", "loadgen"}},
              std::move(raw), rng);
    body.files.push_back(fi);
    ++body.profiles;
  }
  if (body.profiles > 0) req.SerializeToString(&body.bytes);
  return body;
}

void Workload::Refused(const PushBody& body, size_t index, const std::string& reason) {
  const size_t file = body.files[index];
  if (files_[file]->skipped.exchange(true)) return;
  std::fprintf(stderr, "skipping %s: HTTP %s\n", files_[file]->name.c_str(), reason.c_str());
  std::lock_guard<std::mutex> lock(mu_);
  skipped_.emplace_back(files_[file]->name, reason);
}

std::string Workload::Describe() const {
  return StrCat(options_.services, " services x ", options_.pods_per_service,
                " pods, files: ", usable_files(), " pushed of ", files_.size());
}

std::vector<std::pair<std::string, std::string>> Workload::Skipped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return skipped_;
}

}  // namespace embers::loadgen
