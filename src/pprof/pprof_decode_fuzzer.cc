// libFuzzer entry point for the pprof decoder (untrusted input from every push).
//
// Any input must either decode, or fail with a status; never crash, hang or leak. Inputs that
// decode are also normalised, split and re-encoded, and the re-encoding must decode again:
// that exercises the reference indexes the decoder built and the encoder's field handling.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embers::pprof;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto p = Decode(input, DecodeOptions{.max_decompressed_size = 1 << 20});
  if (!p.ok()) return 0;
  std::string encoded = Encode(*p);
  auto again = Decode(encoded, DecodeOptions{.max_decompressed_size = 0});
  if (!again.ok() || again->samples.size() != p->samples.size()) std::abort();
  if (!Normalize(&*p, NormalizeOptions{.now_nanos = 1}).ok()) return 0;
  auto series = SplitBySeries(*std::move(p), embers::model::Labels({{"__name__", "cpu"}}));
  if (series.ok()) {
    for (const SeriesProfile& s : *series) {
      if (!Decode(Encode(s.ToPprof()), DecodeOptions{.max_decompressed_size = 0}).ok()) {
        std::abort();
      }
    }
  }
  return 0;
}
