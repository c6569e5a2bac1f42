// What the answers of S3 and Azure Blob have in common, read the same way by both buckets: the
// canonical code an HTTP status stands for, a printable excerpt of a body that is no error
// document, and the ranged read (the Range header, Content-Range, and the bytes of a 200 or 206).
#ifndef EMBERS_OBJSTORE_HTTP_STORE_ANSWERS_H_
#define EMBERS_OBJSTORE_HTTP_STORE_ANSWERS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "objstore/http/http_client.h"

namespace embers::objstore::http {

// Range ends beyond this are sent open-ended ("bytes=N-"): no object is that large, and some
// stores parse range bounds as doubles or signed 64-bit numbers.
inline constexpr uint64_t kMaxRangeEnd = uint64_t{1} << 52;

// The canonical code for an answer with this HTTP status and no error code the store's own
// table knows: 5xx and 429 Unavailable, 401 Unauthenticated, 403 PermissionDenied, 404 NotFound,
// 409 Aborted, 412 FailedPrecondition, 416 OutOfRange, anything else Internal.
absl::StatusCode CodeForHttpStatus(int http_status);

// At most 160 printable characters of `body` (a proxy's HTML page, say), for an error message.
std::string BodyExcerpt(std::string_view body);

// "bytes=offset-last", or "bytes=offset-" when the end is beyond kMaxRangeEnd. `length` > 0 and
// `offset` <= kMaxRangeEnd.
std::string RangeHeaderValue(uint64_t offset, uint64_t length);

// "bytes first-last/complete" → first and complete (-1 for '*').
bool ParseContentRange(std::string_view value, int64_t* first, int64_t* complete);

// The requested bytes of a 200 (a store that ignored the range: the whole object came) or 206
// answer to a ranged GET, cut to `length` (some stores send more than asked). `what` names the
// request in errors ("S3 GetObject of \"k\" in bucket s3://b"). OutOfRange when a 200's object is
// shorter than `offset`; Internal when a 206's Content-Range does not start at `offset`.
absl::StatusOr<std::string> RangedAnswerBytes(HttpResponse response, std::string_view bucket,
                                              std::string_view key, uint64_t offset,
                                              uint64_t length, std::string_view what);

}  // namespace embers::objstore::http

#endif  // EMBERS_OBJSTORE_HTTP_STORE_ANSWERS_H_
