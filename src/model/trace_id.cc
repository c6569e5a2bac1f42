#include "model/trace_id.h"

#include "base/strings.h"

namespace embers::model {

std::optional<TraceId> ParseTraceId(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  TraceId id;
  for (size_t i = 0; i < hex.size(); ++i) {
    const int d = HexDigitValue(hex[i]);
    if (d < 0) return std::nullopt;
    uint64_t& half = i < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<uint64_t>(d);
  }
  return id;
}

std::string FormatTraceId(TraceId id) {
  std::string out;
  out.reserve(32);
  AppendHex16(id.hi, &out);
  AppendHex16(id.lo, &out);
  return out;
}

}  // namespace embers::model
