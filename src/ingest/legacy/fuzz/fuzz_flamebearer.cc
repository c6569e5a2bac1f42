// libFuzzer target: the flamebearer JSON reader (ad hoc uploads) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/flamebearer_profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  embers::ingest::ParseLimits limits;
  limits.max_total_frames = 1 << 20;
  auto profile = embers::ingest::ParseFlamebearerProfile(json, limits);
  if (profile.ok()) (void)profile->stacks.TotalValue();
  return 0;
}
