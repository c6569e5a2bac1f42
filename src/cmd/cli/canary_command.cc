// `embers-cli canary`: an end-to-end probe for monitoring. Pushes one small CPU profile with a
// unique `canary_id` label and a known total through push.v1, then reads it back through
// querier.v1 until the total matches or the deadline passes. Exit 0 with the time it took, or
// kExitCheckFailed with the reason (never seen, seen with a wrong total) — the write path,
// the index and the read path are all on the way.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/time/clock.h"
#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "cmd/cli/commands.h"
#include "cmd/cli/exit_code.h"
#include "google/v1/profile.pb.h"
#include "push/v1/push.pb.h"
#include "querier/v1/querier.pb.h"

namespace embers::cli {
namespace {

constexpr char kProfileType[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

struct CanaryOptions {
  std::string service_name = "embers-canary";
  std::string deadline = "30s";
  std::string poll = "250ms";
  // Where to read it back; empty: --url (an all-in-one server). In a cluster, --url names a
  // distributor and this a query-frontend.
  std::string query_url;
};

// A CPU profile (cpu/nanoseconds, period 10 ms) with one stack, main → embers_canary, whose
// value is `total`.
std::string CanaryProfile(int64_t total, int64_t time_ns) {
  google::v1::Profile p;
  p.add_string_table("");
  for (const char* s : {"cpu", "nanoseconds", "main", "embers_canary"}) p.add_string_table(s);
  auto* type = p.add_sample_type();
  type->set_type(1);
  type->set_unit(2);
  p.mutable_period_type()->set_type(1);
  p.mutable_period_type()->set_unit(2);
  p.set_period(10'000'000);
  p.set_time_nanos(time_ns);
  p.set_duration_nanos(10'000'000'000);
  for (int i = 1; i <= 2; ++i) {
    auto* f = p.add_function();
    f->set_id(i);
    f->set_name(i + 2);
    auto* loc = p.add_location();
    loc->set_id(i);
    loc->add_line()->set_function_id(i);
  }
  auto* sample = p.add_sample();
  sample->add_location_id(2);  // leaf first
  sample->add_location_id(1);
  sample->add_value(total);
  return Gzip(p.SerializeAsString());
}

absl::Status RunCanary(CliContext& context, const CanaryOptions& o) {
  absl::Duration deadline, poll;
  if (!absl::ParseDuration(o.deadline, &deadline) || deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat("--deadline \"", o.deadline, "\" is not a duration"));
  }
  if (!absl::ParseDuration(o.poll, &poll) || poll <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat("--poll \"", o.poll, "\" is not a duration"));
  }
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api());
  EmbersApi* reader = api;
  std::unique_ptr<EmbersApi> query_api;
  if (!o.query_url.empty()) {
    EmbersApiOptions ro = api->options();
    ro.url = o.query_url;
    absl::StatusOr<std::unique_ptr<EmbersApi>> created = EmbersApi::Create(std::move(ro));
    if (!created.ok()) {
      return absl::InvalidArgumentError(StrCat("--query-url: ", created.status().message()));
    }
    query_api = *std::move(created);
    reader = query_api.get();
  }
  const absl::Time start = absl::Now();
  const std::string id = NewUlid(absl::ToUnixMillis(start)).ToString();
  std::mt19937_64 rng(std::random_device{}());
  // A total other canaries are unlikely to share: a random multiple of the period.
  const int64_t total = 10'000'000 * static_cast<int64_t>(1 + rng() % 1000);

  push::v1::PushRequest push;
  auto* series = push.add_series();
  auto add_label = [&](const std::string& name, const std::string& value) {
    auto* l = series->add_labels();
    l->set_name(name);
    l->set_value(value);
  };
  add_label("__name__", "process_cpu");
  add_label("service_name", o.service_name);
  add_label("canary_id", id);
  series->add_samples()->set_raw_profile(CanaryProfile(total, absl::ToUnixNanos(start)));
  push::v1::PushResponse pushed;
  EMBERS_RETURN_IF_ERROR(
      Annotate(api->Call("push.v1.PusherService/Push", push, &pushed), "canary push"));
  const absl::Time pushed_at = absl::Now();

  querier::v1::SelectMergeProfileRequest query;
  query.set_profile_typeid(kProfileType);
  query.set_label_selector(
      StrCat("{service_name=\"", o.service_name, "\",canary_id=\"", id, "\"}"));
  query.set_start(absl::ToUnixMillis(start) - 60'000);
  std::string last = "never found";
  int attempts = 0;
  while (true) {
    ++attempts;
    query.set_end(absl::ToUnixMillis(absl::Now()) + 60'000);
    google::v1::Profile profile;
    absl::Status st = reader->Call("querier.v1.QuerierService/SelectMergeProfile", query, &profile);
    if (st.ok()) {
      int64_t seen = 0;
      for (const auto& s : profile.sample()) {
        for (int64_t v : s.value()) seen += v;
      }
      if (seen == total) {
        const absl::Duration took = absl::Now() - pushed_at;
        std::printf("canary %s: pushed %lld ns of CPU, read back after %lld ms (%d queries)\n",
                    id.c_str(), static_cast<long long>(total),
                    static_cast<long long>(absl::ToInt64Milliseconds(took)), attempts);
        return absl::OkStatus();
      }
      last = seen == 0 ? "not found" : StrCat("found with total ", seen, ", pushed ", total);
    } else {
      last = StrCat("query failed: ", st.message());
    }
    if (absl::Now() + poll - start > deadline) break;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll));
  }
  return CheckFailedError(StrCat("canary ", id, " was not read back within ", o.deadline, " (",
                                 attempts, " queries; last: ", last, ")"));
}

}  // namespace

void RegisterCanaryCommand(CLI::App& root, CliContext& context) {
  auto o = std::make_shared<CanaryOptions>();
  CLI::App* cmd = root.add_subcommand(
      "canary", "push a known profile and read it back; non-zero exit if it is not found in time");
  cmd->add_option("--service-name", o->service_name, "service_name of the canary profile")
      ->capture_default_str();
  cmd->add_option("--deadline", o->deadline, "how long to wait for it, from the push")
      ->capture_default_str();
  cmd->add_option("--poll", o->poll, "interval between queries")->capture_default_str();
  cmd->add_option("--query-url", o->query_url,
                  "where to read it back (a query-frontend); default: --url");
  cmd->callback(
      [&context, o] { context.SetCommand([&context, o] { return RunCanary(context, *o); }); });
}

}  // namespace embers::cli
