// libFuzzer target: multipart/form-data splitting and sample_type_config JSON. The first input
// line is the Content-Type (so boundaries are fuzzed too); the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/legacy/multipart.h"
#include "ingest/legacy/sample_type_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto form = embers::ingest::ParseMultipart(content_type, body);
  if (form.ok()) {
    for (const auto& part : form->parts) {
      // Every part must lie inside the body.
      if (!part.body.empty() && (part.body.data() < body.data() ||
                                 part.body.data() + part.body.size() > body.data() + body.size())) {
        __builtin_trap();
      }
    }
    if (const auto* c = form->Find("sample_type_config")) {
      (void)embers::ingest::ParseSampleTypeConfig(c->body);
    }
  }
  (void)embers::ingest::ParseSampleTypeConfig(in);
  return 0;
}
