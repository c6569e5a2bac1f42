// ByteReader: bounds-checked reading of uvarints and byte strings from an untrusted buffer.
//
// Shared by the trie and tree parsers (the og binary formats are sequences of Go-style uvarints
// and length-prefixed strings). Every read reports failure instead of reading past the end, and
// error messages carry the byte offset, so a truncated body is a clean 422 naming where it broke.
#ifndef EMBERS_INGEST_LEGACY_BYTE_READER_H_
#define EMBERS_INGEST_LEGACY_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {

class ByteReader {
 public:
  // `what` names the format in error messages ("trie", "tree").
  ByteReader(std::string_view data, std::string_view what) : data_(data), what_(what) {}

  bool AtEnd() const { return pos_ >= data_.size(); }
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  // A Go binary.Uvarint: up to 10 bytes, at most 64 bits.
  absl::Status ReadUvarint(std::string_view field, uint64_t* out) {
    const size_t start = pos_;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return Error(start, StrCat("truncated ", field));
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return Error(start, StrCat(field, " overflows 64 bits"));
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *out = v;
        return absl::OkStatus();
      }
    }
    return Error(start, StrCat(field, " overflows 64 bits"));
  }

  // A uvarint length followed by that many bytes; the length is checked against what is left
  // before anything is taken, so a huge declared length costs nothing.
  absl::Status ReadString(std::string_view field, std::string_view* out) {
    const size_t start = pos_;
    uint64_t len = 0;
    absl::Status status = ReadUvarint(field, &len);
    if (!status.ok()) return status;
    if (len > remaining()) {
      return Error(start,
                   StrCat(field, " length ", len, " exceeds the ", remaining(), " bytes left"));
    }
    *out = data_.substr(pos_, len);
    pos_ += len;
    return absl::OkStatus();
  }

  absl::Status Error(size_t at, std::string_view message) const {
    return UnprocessableError(StrCat(what_, " at byte ", at, ": ", message));
  }

 private:
  std::string_view data_;
  std::string_view what_;
  size_t pos_ = 0;
};

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_BYTE_READER_H_
