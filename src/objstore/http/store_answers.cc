#include "objstore/http/store_answers.h"

#include <optional>
#include <utility>

#include "base/strings.h"
#include "objstore/bucket.h"

namespace embers::objstore::http {

absl::StatusCode CodeForHttpStatus(int http_status) {
  if (http_status >= 500 || http_status == 429) return absl::StatusCode::kUnavailable;
  switch (http_status) {
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 416:
      return absl::StatusCode::kOutOfRange;
    default:
      // The store refused a request we built: not the caller's argument, our bug or the store's.
      return absl::StatusCode::kInternal;
  }
}

std::string BodyExcerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 160)) out.push_back(c >= 0x20 && c < 0x7F ? c : ' ');
  if (body.size() > 160) out += "…";
  return std::string(StripWhitespace(out));
}

std::string RangeHeaderValue(uint64_t offset, uint64_t length) {
  std::string range = StrCat("bytes=", offset, "-");
  if (length - 1 <= kMaxRangeEnd - offset) range += StrCat(offset + length - 1);
  return range;
}

bool ParseContentRange(std::string_view value, int64_t* first, int64_t* complete) {
  if (value.substr(0, 6) != "bytes ") return false;
  value.remove_prefix(6);
  const size_t dash = value.find('-');
  const size_t slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) {
    return false;
  }
  if (!ParseInt64(value.substr(0, dash), first)) return false;
  const std::string_view total = value.substr(slash + 1);
  if (total == "*") {
    *complete = -1;
    return true;
  }
  return ParseInt64(total, complete);
}

absl::StatusOr<std::string> RangedAnswerBytes(HttpResponse response, std::string_view bucket,
                                              std::string_view key, uint64_t offset,
                                              uint64_t length, std::string_view what) {
  if (response.status == 200) {
    if (offset > response.body.size()) {
      return RangeStartPastEndError(bucket, key, offset, response.body.size());
    }
    return response.body.substr(offset, length);
  }
  int64_t first = 0, complete = 0;
  const std::optional<std::string_view> content_range = response.Header("content-range");
  if (!content_range.has_value() || !ParseContentRange(*content_range, &first, &complete) ||
      static_cast<uint64_t>(first) != offset) {
    return absl::InternalError(StrCat(what, ": asked for ", RangeHeaderValue(offset, length),
                                      ", got Content-Range \"", content_range.value_or(""), "\""));
  }
  if (response.body.size() > length) response.body.resize(length);
  return std::move(response.body);
}

}  // namespace embers::objstore::http
