// `embers-loadgen`: pushes realistic profiles to Embers (or Pyroscope) and reports throughput and
// acknowledgement latency. The measuring tool of the write path (issue 4, docs/performance.md).
//
//   embers-loadgen -url=http://127.0.0.1:4040 -connections=1000 -duration=30s
//   embers-loadgen -rate=2000 -services=200 -max-profile-bytes=32768
//
// The profiles are the pprof files of -data-dir, each re-stamped with the current time, with
// perturbed sample values, labelled with a service (one language per service), a pod and __name__,
// and pushed with push.v1.PusherService/Push over Connect (application/proto, gzip'd pprof as the
// SDKs send it). See workload.h for how this stays cheap and runner.h for the connections.
// scripts/loadgen.sh starts a server, runs this and samples the server's RSS and threads.
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "base/flags.h"
#include "base/strings.h"
#include "cmd/loadgen/runner.h"
#include "cmd/loadgen/stats.h"
#include "cmd/loadgen/workload.h"

namespace {

struct Config {
  embers::loadgen::RunOptions run;
  embers::loadgen::WorkloadOptions workload;

  Config() { workload.data_dir = "../shared/testdata/pyroscope/pprof"; }

  void Register(embers::FlagSet& f) {
    f.String("url", &run.url, "base URL of the server (http:// only)");
    f.String("tenant", &run.tenant, "X-Scope-OrgID sent with every push (none when empty)");
    f.Int("connections", &run.connections, "concurrent keep-alive connections");
    f.Int("threads", &run.threads, "client I/O threads");
    f.Double("rate", &run.rate, "target profiles/s over all connections (0: flat out)");
    f.Duration("duration", &run.duration, "how long to push");
    f.Duration("timeout", &run.timeout, "per-request timeout (send + acknowledgement)");
    f.Bool("quiet", &run.quiet, "no per-second progress lines");
    f.Bool("prewarm", &run.prewarm,
           "open every connection (GET /ready) before the measured run starts");
    f.String("data-dir", &workload.data_dir, "directory of pprof files (.pb, .pb.gz) to push");
    f.Int("services", &workload.services, "service_name values (each runs one language's files)");
    f.Int("pods", &workload.pods_per_service, "pod label values per service");
    f.Int("variants", &workload.variants, "sample-value variants prepared per file");
    f.Int("max-profile-bytes", &workload.max_profile_bytes,
          "skip files larger than this uncompressed (0: no limit)");
    f.Int("batch", &workload.batch, "profiles per PushRequest");
    f.Int("seed", &seed, "random seed");
  }

  int64_t seed = 1;
};

std::string Mb(double bytes, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", seconds > 0 ? bytes / seconds / 1e6 : 0.0);
  return buf;
}

void PrintSummary(const Config& config, const embers::loadgen::Workload& workload,
                  const embers::loadgen::Stats& stats, const embers::loadgen::RunResult& r) {
  const auto& c = r.at_deadline;
  const auto& lat = r.total.latency;
  const double secs = r.seconds;
  const double profiles_per_s = secs > 0 ? static_cast<double>(c.profiles_ok) / secs : 0;
  std::printf("\n== embers-loadgen summary\n");
  std::printf(
      "target %s, %d connections, %s, batch %d, %d services x %d pods\n", config.run.url.c_str(),
      config.run.connections,
      config.run.rate > 0 ? embers::StrCat(config.run.rate, " profiles/s").c_str() : "flat out",
      workload.batch(), config.workload.services, config.workload.pods_per_service);
  std::printf("files: %zu pushed of %zu\n", workload.usable_files(), workload.files().size());
  for (const auto& [file, reason] : workload.Skipped()) {
    std::printf("  skipped %s: %s\n", file.c_str(), reason.c_str());
  }
  std::printf("window %.1f s (+%.2f s draining in-flight pushes)\n", secs, r.drain_seconds);
  std::printf("acked in window: %llu profiles in %llu requests = %.0f profiles/s\n",
              static_cast<unsigned long long>(c.profiles_ok),
              static_cast<unsigned long long>(c.requests_ok), profiles_per_s);
  std::printf("uncompressed pprof %s MB/s, wire (request bodies) %s MB/s\n",
              Mb(static_cast<double>(c.pprof_bytes_ok), secs).c_str(),
              Mb(static_cast<double>(c.wire_bytes_ok), secs).c_str());
  std::printf("ack latency (all %llu acks): p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              static_cast<unsigned long long>(lat.total), lat.QuantileMs(0.5), lat.QuantileMs(0.9),
              lat.QuantileMs(0.99), static_cast<double>(lat.max_us) / 1e3);
  // The load generator shares the machine with the server: say what it cost.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("load generator CPU: %.1f s (%.0f%% of one core over the run)\n", cpu,
              100 * cpu / (secs + r.drain_seconds));
  const auto errors = stats.Errors();
  if (errors.empty()) std::printf("errors: none\n");
  for (const auto& [status, info] : errors) {
    std::printf("errors %s: %llu (first: %s)\n",
                status == 0 ? "transport" : embers::StrCat("HTTP ", status).c_str(),
                static_cast<unsigned long long>(info.count), info.sample.c_str());
  }
  // One line for scripts.
  std::printf(
      "RESULT profiles_per_s=%.0f pprof_mb_per_s=%s wire_mb_per_s=%s p50_ms=%.0f p90_ms=%.0f "
      "p99_ms=%.0f max_ms=%.0f errors=%llu profiles_total=%llu pprof_bytes_total=%llu\n",
      profiles_per_s, Mb(static_cast<double>(c.pprof_bytes_ok), secs).c_str(),
      Mb(static_cast<double>(c.wire_bytes_ok), secs).c_str(), lat.QuantileMs(0.5),
      lat.QuantileMs(0.9), lat.QuantileMs(0.99), static_cast<double>(lat.max_us) / 1e3,
      static_cast<unsigned long long>(r.total.errors),
      static_cast<unsigned long long>(r.total.profiles_ok),
      static_cast<unsigned long long>(r.total.pprof_bytes_ok));
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they happen, in order
  Config config;
  embers::FlagSet flags;
  config.Register(flags);
  if (absl::Status st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "embers-loadgen: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  config.workload.seed = static_cast<uint64_t>(config.seed);

  absl::StatusOr<std::unique_ptr<embers::loadgen::Workload>> workload =
      embers::loadgen::Workload::Load(config.workload);
  if (!workload.ok()) {
    std::fprintf(stderr, "embers-loadgen: %s\n", std::string(workload.status().message()).c_str());
    return 1;
  }
  size_t bytes = 0, count = 0;
  for (const auto& f : (*workload)->files()) {
    bytes += f->raw_uncompressed;
    ++count;
  }
  std::printf("loaded %zu pprof files from %s (mean %.1f KB uncompressed)\n", count,
              config.workload.data_dir.c_str(), count ? bytes / 1e3 / count : 0.0);

  embers::loadgen::Stats stats;
  absl::StatusOr<embers::loadgen::RunResult> result =
      embers::loadgen::Run(config.run, **workload, stats);
  if (!result.ok()) {
    std::fprintf(stderr, "embers-loadgen: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  PrintSummary(config, **workload, stats, *result);
  return result->total.profiles_ok > 0 ? 0 : 1;
}
