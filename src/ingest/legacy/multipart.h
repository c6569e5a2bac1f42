// multipart/form-data bodies of POST /ingest (RFC 7578 over RFC 2046).
//
// Pyroscope agents send pprof as a form with file fields `profile` (required), `prev_profile`
// (old cumulative clients; now rejected) and `sample_type_config` (JSON), and JFR as `jfr` plus an
// optional `labels`. This splits such a body into parts without copying them: each part's body is
// a view into the request body, which must outlive the result.
//
// Accepted like Go's mime/multipart reader: CRLF or bare LF line ends, a preamble before the first
// delimiter, transport padding after a delimiter, an epilogue after the close delimiter. Anything
// else — no boundary parameter, a missing first delimiter, a part without the close delimiter,
// unterminated headers — is an InvalidArgument (400) naming what is wrong and the byte offset.
#ifndef EMBERS_INGEST_LEGACY_MULTIPART_H_
#define EMBERS_INGEST_LEGACY_MULTIPART_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::ingest {

struct MultipartPart {
  std::string name;          // Content-Disposition name="..."
  std::string filename;      // Content-Disposition filename="..." (may be empty)
  std::string content_type;  // the part's Content-Type header, if any
  std::string_view body;     // a view into the request body
};

struct MultipartForm {
  std::vector<MultipartPart> parts;
  // The first part named `name`, or nullptr.
  const MultipartPart* Find(std::string_view name) const;
};

// True for "multipart/form-data" (case-insensitive, parameters ignored).
bool IsMultipartFormData(std::string_view content_type);

// The boundary parameter of a multipart Content-Type (quoted or not). InvalidArgument when it is
// missing, empty, longer than 70 characters or not a multipart type.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

struct MultipartLimits {
  size_t max_parts = 64;
  size_t max_header_bytes = 16 * 1024;  // per part
};

absl::StatusOr<MultipartForm> ParseMultipart(std::string_view content_type, std::string_view body,
                                             const MultipartLimits& limits = MultipartLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_MULTIPART_H_
