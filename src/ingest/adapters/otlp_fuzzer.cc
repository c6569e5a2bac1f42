// libFuzzer target for the OTLP profiles converter: the input is a binary
// ExportProfilesServiceRequest (what POST /v1development/profiles carries). Every dictionary
// index in it is untrusted, so this looks for out-of-range reads and crashes in ConvertOtlp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/adapters/otlp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto request = embers::ingest::ParseOtlpHttpBody("application/x-protobuf", body);
  if (!request.ok()) return 0;
  embers::ingest::OtlpConvertOptions options;
  options.now_nanos = 1;  // deterministic: no clock reads
  (void)embers::ingest::ConvertOtlp(*request, options);
  return 0;
}
