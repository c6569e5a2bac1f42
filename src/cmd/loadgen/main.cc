// `embers-loadgen`: the measuring tool of the write path (issue 4) and of the query path (issue 6);
// numbers go to docs/performance.md. Three modes:
//
// -mode=push (default): pushes realistic profiles to Embers (or Pyroscope) and reports throughput
// and acknowledgement latency.
//   embers-loadgen -url=http://127.0.0.1:4040 -connections=1000 -duration=30s
//   embers-loadgen -rate=2000 -services=200 -max-profile-bytes=32768
// The profiles are the pprof files of -data-dir, each re-stamped with the current time, with
// perturbed sample values, labelled with a service (one language per service), a pod and __name__,
// and pushed with push.v1.PusherService/Push over Connect (application/proto, gzip'd pprof as the
// SDKs send it). See workload.h for how this stays cheap and runner.h for the connections; with
// -http2 the pushes are multiplexed over cleartext HTTP/2 connections (http2_client.h).
//   embers-loadgen -http2 -connections=2000 -http2-streams=100 -rate=3000
// scripts/loadgen.sh starts a server, runs this and samples the server's RSS and threads.
//
// -mode=dataset: pushes the query benchmark's fixed data set (dataset.h) the same way, in time
// order, until every profile is acknowledged; reports the ingest rate.
//   embers-loadgen -mode=dataset -file=go_cpu.pb.gz -series=20 -span=6h -interval=15s
//                  -manifest=m.txt [-write-dir=profiles/]
//
// -mode=query: times flame graph and SelectSeries queries and checks their totals against the
// manifest (query_timer.h).
//   embers-loadgen -mode=query -manifest=m.txt -windows=6h,1h -runs=20
//
// scripts/query_bench.sh runs the last two against a fresh server, next to `go tool pprof`.
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "base/flags.h"
#include "base/strings.h"
#include "cmd/loadgen/dataset.h"
#include "cmd/loadgen/query_timer.h"
#include "cmd/loadgen/runner.h"
#include "cmd/loadgen/stats.h"
#include "cmd/loadgen/workload.h"

namespace {

struct Config {
  std::string mode = "push";
  embers::loadgen::RunOptions run;
  embers::loadgen::WorkloadOptions workload;
  embers::loadgen::DatasetOptions dataset;
  embers::loadgen::QueryOptions query;
  std::string write_dir;  // dataset: where to write the profiles too
  std::string manifest;   // dataset: written; query: read

  Config() {
    workload.data_dir = "../shared/testdata/pyroscope/pprof";
    dataset.file = workload.data_dir + "/go_cpu_truncated_stacks.pb.gz";
  }

  void Register(embers::FlagSet& f) {
    f.String("mode", &mode,
             "push: random load for -duration; dataset: push the query benchmark's data set; "
             "query: time queries over it");
    f.String("url", &run.url,
             "base URL of the server: http://, or https:// (HTTP/1.1 pushes; see -tls-ca-path)");
    f.String("tls-ca-path", &run.tls_ca_path,
             "PEM CA an https:// server's certificate must chain to (default: the system's)");
    f.String("tenant", &run.tenant, "X-Scope-OrgID sent with every push (none when empty)");
    f.String("authorization", &run.authorization,
             "Authorization header sent with every request, e.g. \"Bearer emb_…\" (none when "
             "empty)");
    f.Int("connections", &run.connections,
          "concurrent pushes in flight: one keep-alive connection each, or with -http2 one stream "
          "each, -http2-streams of them per connection");
    f.Int("threads", &run.threads, "client I/O threads");
    f.Double("rate", &run.rate, "target profiles/s over all connections (0: flat out)");
    f.Duration("duration", &run.duration, "how long to push");
    f.Duration("timeout", &run.timeout, "per-request timeout (send + acknowledgement)");
    f.Bool("quiet", &run.quiet, "no per-second progress lines");
    f.Bool("prewarm", &run.prewarm,
           "open every connection (GET /ready) before the measured run starts");
    f.Bool("http2", &run.http2,
           "push over cleartext HTTP/2 with prior knowledge (h2c, as gRPC and Connect's HTTP/2 "
           "clients) instead of HTTP/1.1");
    f.Int("http2-streams", &run.http2_streams,
          "with -http2: concurrent streams per connection (the server allows 256)");
    f.String("data-dir", &workload.data_dir, "directory of pprof files (.pb, .pb.gz) to push");
    f.Int("services", &workload.services, "service_name values (each runs one language's files)");
    f.Int("pods", &workload.pods_per_service, "pod label values per service");
    f.Int("variants", &workload.variants, "sample-value variants prepared per file");
    f.Int("max-profile-bytes", &workload.max_profile_bytes,
          "skip files larger than this uncompressed (0: no limit)");
    f.Int("batch", &workload.batch, "profiles per PushRequest");
    f.Int("seed", &seed, "random seed");

    f.String("file", &dataset.file, "dataset: the pprof file every profile is made from");
    f.String("service", &dataset.service, "dataset: service_name of every profile");
    f.Int("series", &dataset.series, "dataset: series (pods) of the service");
    f.Duration("span", &dataset.span, "dataset: time covered, ending at -end");
    f.Duration("interval", &dataset.interval, "dataset: time between two profiles of one series");
    f.Int("end", &end_ms,
          "dataset, query: end of the span / windows in Unix ms (0: now, or the "
          "manifest's for queries)");
    f.String("write-dir", &write_dir,
             "dataset: also write every profile there as NNNNN.pb.gz (time order)");
    f.String("manifest", &manifest,
             "dataset: write each profile's time and totals there; query: expected totals from it");
    f.String("profile-type", &query.profile_type, "query: profile type ID");
    f.String("selector", &query.selector, "query: label selector");
    f.StringList("windows", &query.windows,
                 "query: flame graphs over these trailing windows (durations, comma-separated)");
    f.Int("runs", &query.runs, "query: timed runs of each query");
    f.Int("max-nodes", &query.max_nodes, "query: flame graph max_nodes (0: the server default)");
    f.Duration("series-step", &query.series_step, "query: SelectSeries step");
    f.Duration("wait", &query.wait, "query: how long to wait for the data to become queryable");
    f.Int("server-pid", &query.server_pid,
          "query: the server's pid, to report its CPU time per query (same machine only)");
  }

  int64_t seed = 1;
  int64_t end_ms = 0;
};

std::string Mb(double bytes, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", seconds > 0 ? bytes / seconds / 1e6 : 0.0);
  return buf;
}

void PrintSummary(const Config& config, const embers::loadgen::PushSource& source,
                  const embers::loadgen::Stats& stats, const embers::loadgen::RunResult& r) {
  const auto& c = r.at_deadline;
  const auto& lat = r.total.latency;
  const double secs = r.seconds;
  const double profiles_per_s = secs > 0 ? static_cast<double>(c.profiles_ok) / secs : 0;
  std::printf("\n== embers-loadgen summary\n");
  const std::string connections =
      config.run.http2
          ? embers::StrCat("HTTP/2 (h2c): ", config.run.connections, " pushes in flight over ",
                           embers::loadgen::TcpConnections(config.run), " connections")
          : embers::StrCat("HTTP/1.1: ", config.run.connections, " connections");
  std::printf(
      "target %s, %s, %s, batch %d\n%s\n", config.run.url.c_str(), connections.c_str(),
      config.run.rate > 0 ? embers::StrCat(config.run.rate, " profiles/s").c_str() : "flat out",
      source.batch(), source.Describe().c_str());
  for (const auto& [file, reason] : source.Skipped()) {
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

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "embers-loadgen: %s\n", std::string(status.message()).c_str());
  return 1;
}

int RunQueryMode(Config& config) {
  config.query.url = config.run.url;
  config.query.tenant = config.run.tenant;
  config.query.authorization = config.run.authorization;
  config.query.timeout = config.run.timeout;
  config.query.manifest = config.manifest;
  config.query.end_ms = config.end_ms;
  const absl::Status st = embers::loadgen::RunQueries(config.query);
  return st.ok() ? 0 : Fail(st);
}

// Writes the side outputs first (not timed), then pushes every profile; fails unless all were
// acknowledged, since the query benchmark's expected totals assume the whole data set.
int RunDatasetMode(Config& config) {
  config.dataset.variants = config.workload.variants;
  config.dataset.seed = config.workload.seed;
  config.dataset.end_ms = config.end_ms;
  absl::StatusOr<std::unique_ptr<embers::loadgen::Dataset>> dataset =
      embers::loadgen::Dataset::Load(config.dataset);
  if (!dataset.ok()) return Fail(dataset.status());
  embers::loadgen::Dataset& d = **dataset;
  std::printf("dataset: %s, ending at %lld ms\n", d.Describe().c_str(),
              static_cast<long long>(d.end_ms()));
  if (!config.manifest.empty()) {
    if (absl::Status st = d.WriteManifest(config.manifest); !st.ok()) return Fail(st);
  }
  if (!config.write_dir.empty()) {
    if (absl::Status st = d.WriteProfiles(config.write_dir); !st.ok()) return Fail(st);
    std::printf("wrote %zu profiles to %s\n", d.size(), config.write_dir.c_str());
  }
  config.run.duration = absl::Hours(24 * 30);  // in effect: until the data set is pushed
  embers::loadgen::Stats stats;
  absl::StatusOr<embers::loadgen::RunResult> result = embers::loadgen::Run(config.run, d, stats);
  if (!result.ok()) return Fail(result.status());
  PrintSummary(config, d, stats, *result);
  if (result->total.profiles_ok != d.size()) {
    return Fail(absl::DataLossError(
        embers::StrCat(result->total.profiles_ok, " of ", d.size(), " profiles acknowledged")));
  }
  return 0;
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
  if (config.mode == "query") return RunQueryMode(config);
  if (config.mode == "dataset") return RunDatasetMode(config);
  if (config.mode != "push") {
    std::fprintf(stderr, "embers-loadgen: -mode=%s: want push, dataset or query\n",
                 config.mode.c_str());
    return 2;
  }

  absl::StatusOr<std::unique_ptr<embers::loadgen::Workload>> workload =
      embers::loadgen::Workload::Load(config.workload);
  if (!workload.ok()) return Fail(workload.status());
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
  if (!result.ok()) return Fail(result.status());
  PrintSummary(config, **workload, stats, *result);
  return result->total.profiles_ok > 0 ? 0 : 1;
}
