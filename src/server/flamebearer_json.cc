#include "server/flamebearer_json.h"

namespace embers::server {

nlohmann::ordered_json LevelsJson(
    const google::protobuf::RepeatedPtrField<querier::v1::Level>& ls) {
  nlohmann::ordered_json levels = nlohmann::ordered_json::array();
  for (const auto& l : ls)
    levels.push_back(std::vector<int64_t>(l.values().begin(), l.values().end()));
  return levels;
}

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace embers::server
