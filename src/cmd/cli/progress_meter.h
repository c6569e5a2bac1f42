// ProgressMeter: the progress line of long embers-cli commands (upload, bucket verify) on stderr:
// items and bytes done of the total, rate and ETA. On a terminal it redraws one line in place at
// most 10 times a second; otherwise (a log, a pipe) it prints a plain line every 5 seconds, so
// CI logs stay readable. Thread-safe: workers call Add() concurrently.
#ifndef EMBERS_CMD_CLI_PROGRESS_METER_H_
#define EMBERS_CMD_CLI_PROGRESS_METER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "absl/time/time.h"

namespace embers::cli {

class ProgressMeter {
 public:
  enum class Mode { kOff, kTerminal, kLines };

  // `what` prefixes each line ("upload", "verify").
  ProgressMeter(std::string what, uint64_t total_items, uint64_t total_bytes, Mode mode);
  ~ProgressMeter();
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  void Add(uint64_t items, uint64_t bytes);
  // Draws the final state (and ends the terminal line). Idempotent.
  void Finish();

  // The line as it would be drawn now (for tests).
  std::string Line() const;

 private:
  void MaybeDraw(bool force);

  const std::string what_;
  const uint64_t total_items_;
  const uint64_t total_bytes_;
  const Mode mode_;
  const absl::Time start_;
  std::atomic<uint64_t> items_{0};
  std::atomic<uint64_t> bytes_{0};
  std::mutex mu_;
  absl::Time last_draw_;   // guarded by mu_
  bool finished_ = false;  // guarded by mu_
};

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_PROGRESS_METER_H_
