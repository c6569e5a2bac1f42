// TraceId: the 128-bit id of the distributed trace a profile sample was taken in.
//
// Pyroscope's SDKs and the OTLP receiver put it on samples as the pprof label `trace_id`
// (32 hex digits; reference §9.1). Like span ids it stays on the samples rather than making
// series: pprof::SplitBySeries parses it, the segment-writer stores it as a per-sample column of
// the profiles section (docs/format.md), compaction keeps it, and the query-backend keeps only
// the samples of the traces a query's trace_id_selector lists. The zero id means "none".
#ifndef EMBERS_MODEL_TRACE_ID_H_
#define EMBERS_MODEL_TRACE_ID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace embers::model {

struct TraceId {
  uint64_t hi = 0;  // the first 16 hex digits
  uint64_t lo = 0;

  bool empty() const { return hi == 0 && lo == 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
  friend auto operator<=>(const TraceId&, const TraceId&) = default;
};

// Parses 32 hex digits (either case), as W3C trace context and OTLP spell a trace id; nullopt
// for anything else.
std::optional<TraceId> ParseTraceId(std::string_view hex);
// 32 lower-case hex digits.
std::string FormatTraceId(TraceId id);

}  // namespace embers::model

#endif  // EMBERS_MODEL_TRACE_ID_H_
