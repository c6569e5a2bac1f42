// Pyroscope's "flamebearer" JSON: the flame graph document of the legacy API (/pyroscope/render,
// /render-diff) and of adhocprofiles.v1 (its flamebearer_profile string). Shared by
// legacy_query_routes.cc and adhoc_profiles_service.cc.
#ifndef EMBERS_SERVER_FLAMEBEARER_JSON_H_
#define EMBERS_SERVER_FLAMEBEARER_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "model/profile_type.h"
#include "nlohmann/json.hpp"
#include "querier/v1/querier.pb.h"
#include "query/flame_graph.h"

namespace embers::server {

nlohmann::ordered_json LevelsJson(const google::protobuf::RepeatedPtrField<querier::v1::Level>& ls);

// The document's "version", "flamebearer" and "metadata" (format "single" for a flame graph,
// "double" for a diff); `Graph` is querier::v1::FlameGraph or FlameGraphDiff.
template <class Graph>
nlohmann::ordered_json FlamebearerJson(const Graph& fg, std::string_view format,
                                       const model::ProfileType& type) {
  query::FlamebearerUnits units = query::UnitsForSampleType(type.sample_type, type.sample_unit);
  nlohmann::ordered_json out;
  out["version"] = 1;
  out["flamebearer"] = {
      {"names", std::vector<std::string>(fg.names().begin(), fg.names().end())},
      {"levels", LevelsJson(fg.levels())},
      {"numTicks", fg.total()},
      {"maxSelf", fg.max_self()},
  };
  out["metadata"] = {
      {"format", format},
      {"spyName", ""},
      {"sampleRate", units.sample_rate},
      {"units", units.units},
      {"name", type.sample_type},
  };
  return out;
}

// The whole diff document of /pyroscope/render-diff and adhocprofiles.v1 Diff: the "double"
// flamebearer, null timeline, groups and heatmap, and each side's total ticks.
nlohmann::ordered_json DiffFlamebearerDocument(const querier::v1::FlameGraphDiff& fg,
                                               const model::ProfileType& type);

// Compact JSON with invalid UTF-8 replaced, newline-terminated.
std::string DumpJson(const nlohmann::ordered_json& j);

}  // namespace embers::server

#endif  // EMBERS_SERVER_FLAMEBEARER_JSON_H_
