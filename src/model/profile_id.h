// ProfileId: the id a client gives one pushed profile (push.v1 RawSample.ID, a UUID).
//
// Pyroscope keeps it per stored profile so that SelectMergeStacktraces / SelectMergeProfile can
// select profiles by id (profile_id_selector). The distributor parses it from the push, the
// segment-writer stores it as a column of the profiles section (docs/format.md) and the
// query-backend filters rows by it. The zero id means "none" (clients that send no or a non-UUID
// id).
#ifndef EMBERS_MODEL_PROFILE_ID_H_
#define EMBERS_MODEL_PROFILE_ID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace embers::model {

struct ProfileId {
  uint64_t hi = 0;
  uint64_t lo = 0;

  bool empty() const { return hi == 0 && lo == 0; }
  friend bool operator==(const ProfileId&, const ProfileId&) = default;
  friend auto operator<=>(const ProfileId&, const ProfileId&) = default;
};

// Parses the canonical UUID text form (8-4-4-4-12 hex digits, either case); nullopt otherwise.
std::optional<ProfileId> ParseProfileId(std::string_view uuid);
// The canonical lower-case text form.
std::string FormatProfileId(ProfileId id);

}  // namespace embers::model

#endif  // EMBERS_MODEL_PROFILE_ID_H_
