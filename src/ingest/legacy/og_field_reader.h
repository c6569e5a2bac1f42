// OgFieldReader: bounds-checked reading of uvarints and byte strings from an untrusted buffer, with
// errors that say where the input broke.
//
// Shared by the trie and tree parsers (the og binary formats are sequences of Go-style uvarints
// and length-prefixed strings). The decoding itself is base/varint.h's; this adds the format's
// name, the field and the byte offset to every failure, so a truncated body is a clean 422 naming
// where it broke.
#ifndef EMBERS_INGEST_LEGACY_OG_FIELD_READER_H_
#define EMBERS_INGEST_LEGACY_OG_FIELD_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"

namespace embers::ingest {

class OgFieldReader {
 public:
  // `what` names the format in error messages ("trie", "tree").
  OgFieldReader(std::string_view data, std::string_view what) : reader_(data), what_(what) {}

  bool AtEnd() const { return reader_.empty(); }
  size_t offset() const { return reader_.position(); }
  size_t remaining() const { return reader_.remaining(); }

  // A Go binary.Uvarint: up to 10 bytes, at most 64 bits.
  absl::Status ReadUvarint(std::string_view field, uint64_t* out) {
    const size_t start = offset();
    if (reader_.ReadVarint64(out)) return absl::OkStatus();
    // The reader stops at the end of the input or at the byte that makes the value too large.
    return Error(
        start, reader_.empty() ? StrCat("truncated ", field) : StrCat(field, " overflows 64 bits"));
  }

  // A uvarint length followed by that many bytes; the length is checked against what is left
  // before anything is taken, so a huge declared length costs nothing.
  absl::Status ReadString(std::string_view field, std::string_view* out) {
    const size_t start = offset();
    uint64_t len = 0;
    absl::Status status = ReadUvarint(field, &len);
    if (!status.ok()) return status;
    if (len > remaining()) {
      return Error(start,
                   StrCat(field, " length ", len, " exceeds the ", remaining(), " bytes left"));
    }
    reader_.ReadBytes(static_cast<size_t>(len), out);
    return absl::OkStatus();
  }

  absl::Status Error(size_t at, std::string_view message) const {
    return UnprocessableError(StrCat(what_, " at byte ", at, ": ", message));
  }

 private:
  embers::ByteReader reader_;
  std::string_view what_;
};

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_OG_FIELD_READER_H_
