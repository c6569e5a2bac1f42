#include "server/flamebearer_json.h"

namespace embers::server {

nlohmann::ordered_json LevelsJson(
    const google::protobuf::RepeatedPtrField<querier::v1::Level>& ls) {
  nlohmann::ordered_json levels = nlohmann::ordered_json::array();
  for (const auto& l : ls)
    levels.push_back(std::vector<int64_t>(l.values().begin(), l.values().end()));
  return levels;
}

nlohmann::ordered_json DiffFlamebearerDocument(const querier::v1::FlameGraphDiff& fg,
                                               const model::ProfileType& type) {
  nlohmann::ordered_json out = FlamebearerJson(fg, "double", type);
  out["timeline"] = nullptr;
  out["groups"] = nullptr;
  out["heatmap"] = nullptr;
  out["leftTicks"] = fg.leftticks();
  out["rightTicks"] = fg.rightticks();
  return out;
}

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace embers::server
