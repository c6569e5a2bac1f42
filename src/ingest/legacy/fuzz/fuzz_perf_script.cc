// libFuzzer target: the perf script parser (ad hoc uploads) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/perf_script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  embers::ingest::ParseLimits limits;
  limits.max_total_frames = 1 << 20;
  (void)embers::ingest::IsPerfScript(text);
  auto stacks = embers::ingest::ParsePerfScript(text, limits);
  if (stacks.ok()) (void)stacks->ToFoldedSorted();
  return 0;
}
