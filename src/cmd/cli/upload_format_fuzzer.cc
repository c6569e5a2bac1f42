// libFuzzer entry point for `embers-cli upload`'s format detection, which reads the first bytes
// of any file a user points it at (and inflates the start of a gzip stream). It must never crash
// or read past the input, whatever the bytes; when it names a format, the name must be one that
// /ingest accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cmd/cli/upload_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto format = embers::cli::DetectUploadFormat("fuzz.input", bytes);
  if (format.ok()) {
    auto parsed = embers::cli::ParseUploadFormat(embers::cli::UploadFormatName(*format));
    if (!parsed.ok() || *parsed != *format) std::abort();
  }
  return 0;
}
