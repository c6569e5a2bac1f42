#include "server/client_capabilities.h"

#include "base/strings.h"

namespace embers::server {

bool AcceptAllowsUtf8LabelNames(std::string_view accept) {
  for (std::string_view range : Split(accept, ',', /*skip_empty=*/true)) {
    std::vector<std::string_view> parts = Split(range, ';', /*skip_empty=*/true);
    // parts[0] is the media type; the rest are parameters.
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = parts[i];
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = StripWhitespace(param.substr(0, eq));
      std::string_view value = StripWhitespace(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (EqualsIgnoreCase(name, "allow-utf8-labelnames") && value == "true") return true;
    }
  }
  return false;
}

}  // namespace embers::server
