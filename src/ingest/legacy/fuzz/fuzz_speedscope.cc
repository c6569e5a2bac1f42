// libFuzzer target: the speedscope JSON parser on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/speedscope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  embers::ingest::ParseLimits limits;
  limits.max_total_frames = 1 << 20;
  auto s = embers::ingest::ParseSpeedscope(
      std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (s.ok()) {
    for (const auto& p : *s) (void)p.samples.TotalValue();
  }
  return 0;
}
