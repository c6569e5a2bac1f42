#include "cmd/cli/progress_meter.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/strings.h"
#include "cmd/cli/table_output.h"

namespace embers::cli {
namespace {

std::string Eta(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, s / 60 % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

ProgressMeter::ProgressMeter(std::string what, uint64_t total_items, uint64_t total_bytes,
                             Mode mode)
    : what_(std::move(what)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      mode_(mode),
      start_(absl::Now()),
      last_draw_(start_) {}

ProgressMeter::~ProgressMeter() { Finish(); }

void ProgressMeter::Add(uint64_t items, uint64_t bytes) {
  items_.fetch_add(items, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (mode_ != Mode::kOff) MaybeDraw(false);
}

std::string ProgressMeter::Line() const {
  const uint64_t items = items_.load(std::memory_order_relaxed);
  const uint64_t bytes = bytes_.load(std::memory_order_relaxed);
  const double elapsed = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start_));
  const double fraction =
      total_bytes_ > 0   ? static_cast<double>(bytes) / static_cast<double>(total_bytes_)
      : total_items_ > 0 ? static_cast<double>(items) / static_cast<double>(total_items_)
                         : 1.0;
  const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : -1;
  // A total of 0 bytes is unknown (bucket verify without the index): show what was done.
  const std::string of_bytes = total_bytes_ > 0
                                   ? StrCat(FormatBytes(bytes), "/", FormatBytes(total_bytes_))
                                   : FormatBytes(bytes);
  return absl::StrFormat("%s: %d/%d files, %s, %.0f files/s, %s/s, %3.0f%%, ETA %s", what_, items,
                         total_items_, of_bytes, static_cast<double>(items) / elapsed,
                         FormatBytes(static_cast<uint64_t>(static_cast<double>(bytes) / elapsed)),
                         100 * fraction, Eta(eta));
}

void ProgressMeter::MaybeDraw(bool force) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  const absl::Time now = absl::Now();
  const absl::Duration every =
      mode_ == Mode::kTerminal ? absl::Milliseconds(100) : absl::Seconds(5);
  if (!force && now - last_draw_ < every) return;
  last_draw_ = now;
  if (mode_ == Mode::kTerminal) {
    std::fprintf(stderr, "\r\033[K%s", Line().c_str());
  } else {
    std::fprintf(stderr, "%s\n", Line().c_str());
  }
  std::fflush(stderr);
}

void ProgressMeter::Finish() {
  if (mode_ == Mode::kOff) return;
  MaybeDraw(true);
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (mode_ == Mode::kTerminal) std::fputc('\n', stderr);
}

}  // namespace embers::cli
