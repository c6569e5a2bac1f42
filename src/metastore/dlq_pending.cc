#include "metastore/dlq_pending.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/ulid.h"

namespace embers::metastore {

absl::Status ParkedMetadataCheck::Check(int64_t start_ms, int64_t end_ms) const {
  // An infinite margin (the timestamp check is off) makes every parked segment relevant.
  const int64_t older =
      older_ == absl::InfiniteDuration() ? INT64_MAX / 2 : absl::ToInt64Milliseconds(older_);
  const int64_t newer =
      newer_ == absl::InfiniteDuration() ? INT64_MAX / 2 : absl::ToInt64Milliseconds(newer_);
  size_t pending = 0;
  absl::Status listed = bucket_->List("dlq/", [&](std::string_view key) {
    // dlq/<shard>/<tenant>/<ulid>/meta.pb
    std::vector<std::string_view> parts = Split(key, '/', /*skip_empty=*/false);
    if (parts.size() != 5 || parts[4] != "meta.pb") return absl::OkStatus();
    absl::StatusOr<Ulid> id = ParseUlid(parts[3]);
    // An entry whose time cannot be told may hold anything.
    const int64_t made = id.ok() ? static_cast<int64_t>(id->TimeMs()) : -1;
    if (made < 0 || (made - older <= end_ms && made + newer >= start_ms)) pending++;
    return absl::OkStatus();
  });
  if (!listed.ok()) {
    return absl::UnavailableError(
        StrCat("cannot tell whether recent data is fully indexed: ", ToStd(listed.message())));
  }
  if (pending == 0) return absl::OkStatus();
  return absl::UnavailableError(
      StrCat(pending,
             " segment(s) written while the metastore was unreachable are not indexed yet (dlq/); "
             "the answer would be incomplete: retry in a few seconds"));
}

}  // namespace embers::metastore
