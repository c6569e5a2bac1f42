// ProfileIdentity: when two stored profiles are the same push (a client retry), so that it is
// counted once.
//
// A client that does not get an acknowledgement in time pushes the same profile again; both
// copies are stored (often in different segments). Compaction keeps one copy of a profile seen
// twice and the query-backend counts one copy before compaction, both by this identity, so every
// query answers the same before and after compaction.
//
// Identity: the series (its fingerprint, within one tenant), the timestamp, and a digest of the
// profile's content that does not depend on the dataset it is stored in: its duration, the id the
// client gave it (RawSample.ID, zero when none) and the multiset of its samples' (value, span id,
// trace id).
// Stack-trace ids are left out because they are indexes into one dataset's symbols (the same
// stack has different ids in different objects); the samples of a retried push carry the same
// values in the same multiset. Pyroscope de-duplicates on (fingerprint, timestamp) alone; this is
// stricter, so two different profiles of one series with the same millisecond timestamp are kept
// unless their durations, ids and sample values all agree too.
//
// The digest is order-independent (a sum of per-sample hashes), so it is the same however a
// writer ordered the samples of a row.
#ifndef EMBERS_BLOCK_PROFILE_IDENTITY_H_
#define EMBERS_BLOCK_PROFILE_IDENTITY_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/hash/hash.h"
#include "model/profile_id.h"
#include "model/trace_id.h"

namespace embers::block {

// SplitMix64's finaliser: a bijective 64-bit mix.
inline uint64_t MixBits(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The content digest of one profile. `span_ids` and `trace_ids` are each empty or hold one id
// per value.
inline uint64_t ProfileDigest(int64_t duration_ns, model::ProfileId id,
                              std::span<const int64_t> values, std::span<const uint64_t> span_ids,
                              std::span<const model::TraceId> trace_ids = {}) {
  uint64_t sum = 0;
  const bool with_spans = span_ids.size() == values.size();
  const bool with_traces = trace_ids.size() == values.size();
  for (size_t i = 0; i < values.size(); ++i) {
    const uint64_t span = with_spans ? span_ids[i] : 0;
    uint64_t link = MixBits(span ^ 0x9e3779b97f4a7c15ULL);
    if (with_traces) link = MixBits(MixBits(link ^ trace_ids[i].hi) ^ trace_ids[i].lo);
    sum += MixBits(static_cast<uint64_t>(values[i]) + link);
  }
  uint64_t h = MixBits(static_cast<uint64_t>(duration_ns) ^ 0x2545f4914f6cdd1dULL);
  h = MixBits(h ^ id.hi);
  h = MixBits(h ^ id.lo);
  h = MixBits(h ^ static_cast<uint64_t>(values.size()));
  return h ^ sum;
}

// A profile's identity (see above). Equal keys are the same push.
struct ProfileKey {
  uint64_t fingerprint = 0;
  int64_t timestamp_ms = 0;
  uint64_t digest = 0;

  friend bool operator==(const ProfileKey&, const ProfileKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ProfileKey& k) {
    return H::combine(std::move(h), k.fingerprint, k.timestamp_ms, k.digest);
  }
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_PROFILE_IDENTITY_H_
