// libFuzzer target: the folded (groups) and lines parsers on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/folded.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  embers::ingest::ParseLimits limits;
  limits.max_total_frames = 1 << 20;
  auto folded = embers::ingest::ParseFolded(body, limits);
  if (folded.ok()) (void)folded->TotalValue();
  auto lines = embers::ingest::ParseLines(body, limits);
  if (lines.ok()) (void)lines->ToFoldedSorted();
  return 0;
}
