// libFuzzer entry point for the JFR reader, the LabelsSnapshot decoder and the converter.
// Built only with -DEMBERS_FUZZ=ON under clang (see CMakeLists.txt). Any crash, sanitizer report
// or hang is a bug: malformed input must come back as an InvalidArgument status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/jfr/jfr_labels.h"
#include "ingest/jfr/jfr_to_profiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the target so one corpus exercises both decoders.
  if (!in.empty() && in[0] == 'L') {
    (void)embers::jfr::ParseLabelsSnapshot(in.substr(1));
    return 0;
  }
  (void)embers::jfr::ConvertJfr(in, nullptr);
  return 0;
}
