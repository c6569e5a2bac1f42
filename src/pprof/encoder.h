// Encoding of a pprof::Profile as `google.v1.Profile` protobuf bytes.
//
// Used to hand split per-series profiles to storage and for pprof query responses, and by
// tests to round-trip decoded input. The output is uncompressed; callers gzip it when the wire
// format asks for that (base/compression.h Gzip). Repeated scalars are written packed, as
// every current pprof writer does; fields equal to their default are omitted (proto3).
#ifndef EMBERS_PPROF_ENCODER_H_
#define EMBERS_PPROF_ENCODER_H_

#include <string>

#include "pprof/profile.h"

namespace embers::pprof {

// Appends the encoding of `profile` to `*out`.
void EncodeTo(const Profile& profile, std::string* out);

inline std::string Encode(const Profile& profile) {
  std::string out;
  EncodeTo(profile, &out);
  return out;
}

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_ENCODER_H_
