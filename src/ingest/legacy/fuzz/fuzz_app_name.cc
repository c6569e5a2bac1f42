// libFuzzer target: the /ingest `name` grammar, the suffix → profile-type table and from/until.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/app_name.h"
#include "ingest/legacy/profile_kind.h"
#include "ingest/legacy/time_param.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto app = embers::ingest::ParseAppName(in);
  if (app.ok()) {
    auto type = embers::ingest::ResolveLegacyProfileType(app->name, 100);
    if (type.ok()) (void)embers::ingest::LegacySeriesLabels(*app, *type, "spy");
  }
  (void)embers::ingest::ParseTimeParam(in, 1'700'000'000'000'000'000, "from");
  return 0;
}
