// `embers-cli upload FILE|DIR…`: sends profile files to POST /ingest, several at once, with
// retries on 429/5xx (EmbersApi), progress on stderr and a summary of what was accepted and what
// was rejected and why.
//
// An error that concerns every file (the server unreachable, credentials refused) stops the upload
// at once with that error; an error that concerns one file (400/413/415/422) rejects that file and
// the upload goes on.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/status.h"
#include "base/strings.h"
#include "cmd/cli/byte_budget.h"
#include "cmd/cli/commands.h"
#include "cmd/cli/exit_code.h"
#include "cmd/cli/progress_meter.h"
#include "cmd/cli/time_range.h"
#include "cmd/cli/upload_source.h"

namespace embers::cli {
namespace {

// Larger files are refused before reading them (the server's default limit is far lower).
constexpr uint64_t kMaxFileBytes = 1ull << 30;
// A push is answered once its segment is durable and indexed (~0.3 s with the default 500 ms
// segments), so the rate is concurrency / latency: 1,000 files in flight ≈ 3,000 files/s. Each is
// a thread with a blocking connection; beyond this the threads cost more than they bring.
constexpr int kMaxConcurrency = 2048;
// Bytes of files read and not yet answered, at most (byte_budget.h).
constexpr uint64_t kMaxBytesInFlight = 512ull << 20;

struct UploadOptions {
  std::vector<std::string> paths;
  std::string service_name = "embers-cli";
  std::vector<std::string> labels;
  std::string format = "auto";
  int concurrency = 512;
  std::string time;  // for formats without timestamps (folded, speedscope)
  int sample_rate = 0;
  std::string spy_name;
};

absl::StatusOr<std::string> ReadFile(const std::string& path, uint64_t size_hint) {
  if (size_hint > kMaxFileBytes) {
    return absl::ResourceExhaustedError(StrCat("larger than ", kMaxFileBytes >> 20, " MiB"));
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InvalidArgumentError(StrCat("cannot read: ", strerror(errno)));
  std::string bytes;
  bytes.resize(size_hint);
  size_t have = 0;
  while (true) {
    if (have == bytes.size()) bytes.resize(std::max<size_t>(4096, bytes.size() * 2));
    const ssize_t n = read(fd, bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      close(fd);
      return absl::InvalidArgumentError(StrCat("cannot read: ", strerror(e)));
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    if (have > kMaxFileBytes) {
      close(fd);
      return absl::ResourceExhaustedError(StrCat("larger than ", kMaxFileBytes >> 20, " MiB"));
    }
  }
  close(fd);
  bytes.resize(have);
  return bytes;
}

// Errors that no other file would escape: stop the whole upload.
bool IsGlobalError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

struct Rejection {
  std::string path;
  std::string format;
  std::string reason;
};

absl::Status RunUpload(CliContext& context, const UploadOptions& o) {
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    return absl::InvalidArgumentError(StrCat("--concurrency must be 1 to ", kMaxConcurrency));
  }
  std::optional<UploadFormat> forced;
  if (o.format != "auto") {
    EMBERS_ASSIGN_OR_RETURN(forced, ParseUploadFormat(o.format));
  }
  EMBERS_ASSIGN_OR_RETURN(const std::string app_name,
                          IngestApplicationName(o.service_name, o.labels));
  std::string common = StrCat("name=", UrlEncode(app_name));
  if (!o.time.empty()) {
    EMBERS_ASSIGN_OR_RETURN(int64_t ms, ParseTime(o.time, absl::Now(), "--time"));
    common += StrCat("&from=", ms / 1000, "&until=", ms / 1000);
  }
  if (o.sample_rate > 0) common += StrCat("&sampleRate=", o.sample_rate);
  if (!o.spy_name.empty()) common += StrCat("&spyName=", UrlEncode(o.spy_name));

  EMBERS_ASSIGN_OR_RETURN(const std::vector<UploadFile> files, CollectUploadFiles(o.paths));
  if (files.empty()) return absl::InvalidArgumentError("no files to upload");
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api(o.concurrency));
  uint64_t total_bytes = 0;
  for (const auto& f : files) total_bytes += f.size;

  ProgressMeter progress("upload", files.size(), total_bytes,
                         context.options().quiet         ? ProgressMeter::Mode::kOff
                         : context.InteractiveProgress() ? ProgressMeter::Mode::kTerminal
                                                         : ProgressMeter::Mode::kLines);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> accepted_bytes{0};
  std::mutex mu;
  std::vector<Rejection> rejected;  // guarded by mu
  absl::Status fatal;               // guarded by mu
  const absl::Time start = absl::Now();

  ByteBudget budget(kMaxBytesInFlight);
  auto worker = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= files.size()) return;
      const UploadFile& file = files[i];
      std::string format_name = "?";
      budget.Acquire(file.size);
      absl::Status status = [&]() -> absl::Status {
        EMBERS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(file.path, file.size));
        UploadFormat format;
        if (forced) {
          format = *forced;
        } else {
          EMBERS_ASSIGN_OR_RETURN(format, DetectUploadFormat(file.path, bytes));
        }
        format_name = std::string(UploadFormatName(format));
        return api->Send("POST", StrCat("/ingest?", common, "&format=", format_name), bytes,
                         "application/octet-stream", nullptr);
      }();
      budget.Release(file.size);
      progress.Add(1, file.size);
      if (status.ok()) {
        accepted.fetch_add(1, std::memory_order_relaxed);
        accepted_bytes.fetch_add(file.size, std::memory_order_relaxed);
        continue;
      }
      std::lock_guard lock(mu);
      if (IsGlobalError(status)) {
        if (fatal.ok()) fatal = status;
        stop.store(true);
        return;
      }
      rejected.push_back({file.path, format_name, std::string(status.message())});
    }
  };
  std::vector<std::thread> threads;
  const int n = static_cast<int>(std::min<size_t>(o.concurrency, files.size()));
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  progress.Finish();

  const double seconds = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start));
  std::fprintf(stderr, "uploaded %llu of %zu files (%s) in %.2f s, %.0f files/s; %zu rejected\n",
               static_cast<unsigned long long>(accepted.load()), files.size(),
               FormatBytes(accepted_bytes.load()).c_str(), seconds,
               static_cast<double>(accepted.load()) / seconds, rejected.size());
  if (!fatal.ok()) {
    return absl::Status(fatal.code(), StrCat("upload stopped: ", fatal.message()));
  }
  if (!rejected.empty()) {
    Table table({"file", "format", "reason"});
    std::sort(rejected.begin(), rejected.end(),
              [](const Rejection& a, const Rejection& b) { return a.path < b.path; });
    for (auto& r : rejected) table.AddRow({r.path, r.format, r.reason});
    context.Print(table);
    return CheckFailedError(StrCat(rejected.size(), " of ", files.size(), " files were rejected"));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterUploadCommand(CLI::App& root, CliContext& context) {
  auto o = std::make_shared<UploadOptions>();
  CLI::App* cmd = root.add_subcommand(
      "upload", "send profile files (pprof, gzipped or not; folded; JFR; speedscope) to /ingest");
  cmd->add_option("paths", o->paths, "files and directories (walked recursively)")->required();
  cmd->add_option("--service-name,-s", o->service_name, "service_name of the uploaded profiles")
      ->capture_default_str();
  cmd->add_option("--label", o->labels, "extra label, name=value (repeatable)");
  cmd->add_option("--format", o->format, "auto, pprof, folded, jfr or speedscope")
      ->capture_default_str();
  cmd->add_option("--concurrency,-c", o->concurrency,
                  "files in flight at once (each push waits for its segment to be stored, ~0.5 s: "
                  "the rate is about concurrency / 0.5 s; 2000 for bulk uploads)")
      ->capture_default_str();
  cmd->add_option("--time", o->time,
                  "time of profiles that carry none (folded, speedscope): now-5m, RFC 3339, Unix; "
                  "default: when the server receives them");
  cmd->add_option("--sample-rate", o->sample_rate, "samples per second of folded stacks (100)");
  cmd->add_option("--spy-name", o->spy_name, "Pyroscope spyName (e.g. javaspy, gospy)");
  cmd->callback(
      [&context, o] { context.SetCommand([&context, o] { return RunUpload(context, *o); }); });
}

}  // namespace embers::cli
