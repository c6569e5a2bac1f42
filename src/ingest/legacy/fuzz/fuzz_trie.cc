// libFuzzer target: the transport-trie parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/og_binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  embers::ingest::ParseLimits limits;
  limits.max_total_frames = 1 << 20;
  limits.max_name_bytes = 1 << 22;
  auto s = embers::ingest::ParseTrie(std::string_view(reinterpret_cast<const char*>(data), size),
                                     limits);
  if (s.ok()) (void)s->TotalValue();
  return 0;
}
