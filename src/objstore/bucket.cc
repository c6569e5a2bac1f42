#include "objstore/bucket.h"

#include "base/strings.h"

namespace embers::objstore {

namespace {

// Checks one complete segment of a key or prefix. `what` is "key" or "prefix" for the message.
absl::Status ValidateSegment(std::string_view segment, std::string_view text,
                             std::string_view what) {
  if (segment.empty()) {
    return absl::InvalidArgumentError(StrCat("invalid object ", what, " \"", text,
                                             "\": empty path segment (leading, trailing or '//')"));
  }
  if (segment == "." || segment == "..") {
    return absl::InvalidArgumentError(
        StrCat("invalid object ", what, " \"", text, "\": '.' and '..' segments are not allowed"));
  }
  if (segment.substr(0, kReservedSegmentPrefix.size()) == kReservedSegmentPrefix) {
    return absl::InvalidArgumentError(StrCat("invalid object ", what, " \"", text,
                                             "\": segments starting with \"",
                                             kReservedSegmentPrefix, "\" are reserved"));
  }
  return absl::OkStatus();
}

// Rules common to keys and prefixes: length and NUL. The text is not echoed for NUL, since a
// message containing NUL bytes is truncated by most log sinks.
absl::Status ValidateBytes(std::string_view text, std::string_view what) {
  if (text.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError(
        StrCat("invalid object ", what, ": ", text.size(), " bytes, longer than ", kMaxKeyLength));
  }
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("invalid object ", what, ": contains NUL"));
  }
  return absl::OkStatus();
}

// Checks every '/'-separated segment of `path` (part or all of `text`).
absl::Status ValidateSegments(std::string_view path, std::string_view text, std::string_view what) {
  for (;;) {
    const size_t slash = path.find('/');
    if (absl::Status s = ValidateSegment(path.substr(0, slash), text, what); !s.ok()) return s;
    if (slash == std::string_view::npos) return absl::OkStatus();
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

absl::Status ValidateKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("invalid object key: empty");
  if (absl::Status s = ValidateBytes(key, "key"); !s.ok()) return s;
  return ValidateSegments(key, key, "key");
}

absl::Status ValidateListPrefix(std::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  if (absl::Status s = ValidateBytes(prefix, "prefix"); !s.ok()) return s;
  // Everything up to the last '/' must be complete valid segments. What follows is a partial
  // segment: "." or ".." there can still grow into a valid name ("..x"), and a fragment that
  // cannot (".embers-tmp-x") is harmless because it simply matches no key.
  size_t last_slash = prefix.rfind('/');
  if (last_slash == std::string_view::npos) return absl::OkStatus();
  return ValidateSegments(prefix.substr(0, last_slash), prefix, "prefix");
}

absl::Status ObjectNotFoundError(std::string_view bucket, std::string_view key) {
  return absl::NotFoundError(StrCat("object \"", key, "\" not found in bucket ", bucket));
}

absl::Status RangeStartPastEndError(std::string_view bucket, std::string_view key, uint64_t offset,
                                    uint64_t size) {
  return absl::OutOfRangeError(StrCat("range read of object \"", key, "\" in bucket ", bucket,
                                      " starts at ", offset, ", past its end (size ", size, ")"));
}

absl::Status Bucket::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) {
    if (absl::Status s = Delete(key); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListKeys(Bucket& bucket, std::string_view prefix) {
  std::vector<std::string> keys;
  absl::Status s = bucket.List(prefix, [&keys](std::string_view key) {
    keys.emplace_back(key);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return keys;
}

}  // namespace embers::objstore
