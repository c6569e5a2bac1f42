// `embers`: the single binary. Parses flags and YAML, runs the modules named by -target, and
// stops them gracefully on SIGTERM or SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>
#include <utility>

#include "base/flags.h"
#include "base/logging.h"
#include "base/malloc_tuning.h"
#include "base/metrics.h"
#include "base/open_files_limit.h"
#include "base/process_metrics.h"
#include "server/app.h"
#include "server/config.h"

namespace {

// Blocks SIGTERM/SIGINT in every thread (new threads inherit the mask) and returns the set, so that
// main can wait for them synchronously instead of running code in a signal handler.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  embers::TuneMallocForLargeBuffers();
  embers::RaiseOpenFilesLimit();
  const sigset_t shutdown_signals = BlockShutdownSignals();

  embers::server::Config config;
  embers::FlagSet flags;
  config.RegisterFlags(flags);
  if (absl::Status st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "embers: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (flags.version_requested()) {
    std::cout << "embers, version " << EMBERS_VERSION << " (revision " << EMBERS_REVISION << ")\n";
    return 0;
  }
  absl::StatusOr<embers::log::Level> level = embers::log::ParseLevel(config.log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "embers: -log.level: %s\n", std::string(level.status().message()).c_str());
    return 2;
  }
  embers::log::SetLevel(*level);

  auto& registry = embers::metrics::Registry::Global();
  embers::metrics::RegisterProcessMetrics(registry);
  embers::metrics::RegisterBuildInfo(registry, EMBERS_VERSION, EMBERS_REVISION);

  embers::log::Info("starting embers",
                    {{"version", EMBERS_VERSION}, {"revision", EMBERS_REVISION}});
  embers::server::ProcessInfo info{
      .version = EMBERS_VERSION,
      .revision = EMBERS_REVISION,
      .branch = EMBERS_BRANCH,
      .build_date = EMBERS_BUILD_DATE,
      .compiler = EMBERS_COMPILER,
      .config_yaml = flags.Yaml(embers::FlagSet::YamlView::kEffective),
      .default_config_yaml = flags.Yaml(embers::FlagSet::YamlView::kDefaults),
      .diff_config_yaml = flags.Yaml(embers::FlagSet::YamlView::kDiff),
      .utf8_label_names = config.allow_utf8_label_names,
  };
  embers::server::App app(config, std::move(info));
  // Signals are taken by a thread of their own because start-up may wait (for a bucket that does
  // not open yet) and must still end on SIGTERM.
  std::atomic<bool> exiting{false};
  std::thread signal_waiter([&app, &exiting, shutdown_signals] {
    const timespec poll = {.tv_sec = 0, .tv_nsec = 200'000'000};
    while (!exiting.load()) {
      int signal_number = sigtimedwait(&shutdown_signals, nullptr, &poll);
      if (signal_number < 0) continue;  // timeout or EINTR
      embers::log::Info("shutting down",
                        {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
      app.RequestShutdown();
      return;
    }
  });
  auto finish = [&](int code) {
    exiting = true;
    signal_waiter.join();
    return code;
  };
  if (absl::Status st = app.Start(); !st.ok()) {
    if (app.ShutdownRequested()) {
      embers::log::Info("stopped before start-up completed", {{"reason", st.ToString()}});
      return finish(0);
    }
    embers::log::Error("startup failed", {{"error", st.ToString()}});
    return finish(1);
  }
  embers::log::Info("embers is ready to serve");

  app.WaitForShutdownRequest();
  finish(0);
  app.Stop();
  embers::log::Info("stopped");
  return 0;
}
