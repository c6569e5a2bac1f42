#include "pprof/decoder.h"

#include <cstring>

#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "model/labels.h"

namespace embers::pprof {

namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLen = 2;
constexpr uint32_t kStartGroup = 3;
constexpr uint32_t kEndGroup = 4;
constexpr uint32_t kFixed32 = 5;

// Deprecated groups inside unknown fields are skipped, but not nested without bound.
constexpr int kMaxGroupDepth = 32;

// A cursor over one protobuf message. Positions are absolute offsets into the whole input so
// errors can name where decoding failed. Methods return false on malformed input after
// recording the reason in `*error`.
class Reader {
 public:
  Reader(const uint8_t* base, size_t begin, size_t end, std::string* error)
      : base_(base), pos_(begin), end_(end), error_(error) {}

  bool done() const { return pos_ >= end_; }
  size_t pos() const { return pos_; }

  bool Varint(uint64_t* out) {
    // Fast path: most varints in a pprof (ids, small indexes, tags) are one byte.
    if (pos_ < end_ && base_[pos_] < 0x80) {
      *out = base_[pos_++];
      return true;
    }
    uint64_t v = 0;
    size_t start = pos_;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= end_) return Fail(start, "truncated varint");
      uint8_t b = base_[pos_++];
      if (shift == 63 && b > 1) return Fail(start, "varint overflows 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *out = v;
        return true;
      }
    }
    return Fail(start, "varint longer than 10 bytes");
  }

  bool Tag(uint32_t* field, uint32_t* wire_type) {
    size_t start = pos_;
    uint64_t tag = 0;
    if (!Varint(&tag)) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return Fail(start, "invalid field number");
    return true;
  }

  // Reads a length prefix and returns the [begin, end) of the payload, advancing past it.
  bool Len(size_t* begin, size_t* end) {
    size_t start = pos_;
    uint64_t n = 0;
    if (!Varint(&n)) return false;
    if (n > end_ - pos_)
      return Fail(start, "length-delimited field runs past the end of its message");
    *begin = pos_;
    *end = pos_ + n;
    pos_ += n;
    return true;
  }

  bool Skip(uint32_t field, uint32_t wire_type, int depth = 0) {
    size_t start = pos_;
    uint64_t v = 0;
    size_t b = 0, e = 0;
    switch (wire_type) {
      case kVarint:
        return Varint(&v);
      case kFixed64:
        if (end_ - pos_ < 8) return Fail(start, "truncated fixed64");
        pos_ += 8;
        return true;
      case kFixed32:
        if (end_ - pos_ < 4) return Fail(start, "truncated fixed32");
        pos_ += 4;
        return true;
      case kLen:
        return Len(&b, &e);
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return Fail(start, "groups nested too deeply");
        while (true) {
          if (done()) return Fail(start, "unterminated group");
          uint32_t f = 0, wt = 0;
          if (!Tag(&f, &wt)) return false;
          if (wt == kEndGroup) {
            if (f != field) return Fail(start, "mismatched end-group");
            return true;
          }
          if (!Skip(f, wt, depth + 1)) return false;
        }
      }
      default:
        return Fail(start, StrCat("invalid wire type ", wire_type));
    }
  }

  // Repeated scalar field, packed (LEN) or not (VARINT). Appends to `out`.
  template <class T>
  bool Repeated(uint32_t wire_type, std::vector<T>* out) {
    uint64_t v = 0;
    if (wire_type == kVarint) {
      if (!Varint(&v)) return false;
      out->push_back(static_cast<T>(v));
      return true;
    }
    size_t b = 0, e = 0;
    if (!Len(&b, &e)) return false;
    Reader packed(base_, b, e, error_);
    while (!packed.done()) {
      if (!packed.Varint(&v)) return false;
      out->push_back(static_cast<T>(v));
    }
    return true;
  }

  bool Fail(size_t offset, std::string_view what) {
    *error_ = StrCat(what, " at byte offset ", offset);
    return false;
  }

  const uint8_t* base() const { return base_; }
  std::string* error() const { return error_; }

 private:
  const uint8_t* base_;
  size_t pos_;
  size_t end_;
  std::string* error_;
};

// Reads a varint-typed scalar when the wire type matches; a field with an unexpected wire type
// is skipped like an unknown field (what protobuf parsers do).
#define EMBERS_SCALAR(reader, wire_type, field_no, dest)                 \
  do {                                                                   \
    if ((wire_type) != kVarint) {                                        \
      if (!(reader).Skip((field_no), (wire_type))) return false;         \
    } else {                                                             \
      uint64_t v_ = 0;                                                   \
      if (!(reader).Varint(&v_)) return false;                           \
      (dest) = static_cast<std::remove_reference_t<decltype(dest)>>(v_); \
    }                                                                    \
  } while (0)

// Opens the payload of a LEN field as a sub-reader; skips fields of another wire type.
#define EMBERS_SUBMESSAGE(reader, wire_type, field_no, sub, body) \
  do {                                                            \
    if ((wire_type) != kLen) {                                    \
      if (!(reader).Skip((field_no), (wire_type))) return false;  \
    } else {                                                      \
      size_t b_ = 0, e_ = 0;                                      \
      if (!(reader).Len(&b_, &e_)) return false;                  \
      Reader sub((reader).base(), b_, e_, (reader).error());      \
      body;                                                       \
    }                                                             \
  } while (0)

class Parser {
 public:
  Parser(const std::string& data, Profile* p, std::string* error)
      : data_(data), p_(p), error_(error) {}

  bool Parse() {
    Reader r(reinterpret_cast<const uint8_t*>(data_.data()), 0, data_.size(), error_);
    Reserve();
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            ValueType vt;
            if (!ParseValueType(sub, &vt)) return false;
            p_->sample_types.push_back(vt);
          });
          break;
        case 2:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            if (!ParseSample(sub)) return false;
          });
          break;
        case 3:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            if (!ParseMapping(sub)) return false;
          });
          break;
        case 4:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            if (!ParseLocation(sub)) return false;
          });
          break;
        case 5:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            if (!ParseFunction(sub)) return false;
          });
          break;
        case 6:
          if (wt != kLen) {
            if (!r.Skip(field, wt)) return false;
          } else {
            size_t b = 0, e = 0;
            if (!r.Len(&b, &e)) return false;
            p_->strings.emplace_back(data_.data() + b, e - b);
          }
          break;
        case 7:
          EMBERS_SCALAR(r, wt, field, p_->drop_frames);
          break;
        case 8:
          EMBERS_SCALAR(r, wt, field, p_->keep_frames);
          break;
        case 9:
          EMBERS_SCALAR(r, wt, field, p_->time_nanos);
          break;
        case 10:
          EMBERS_SCALAR(r, wt, field, p_->duration_nanos);
          break;
        case 11:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            // A repeated singular message merges into the previous one (protobuf semantics).
            if (!ParseValueType(sub, &p_->period_type)) return false;
            p_->has_period_type = true;
          });
          break;
        case 12:
          EMBERS_SCALAR(r, wt, field, p_->period);
          break;
        case 13:
          if (wt != kVarint && wt != kLen) {
            if (!r.Skip(field, wt)) return false;
          } else if (!r.Repeated(wt, &p_->comments)) {
            return false;
          }
          break;
        case 14:
          EMBERS_SCALAR(r, wt, field, p_->default_sample_type);
          break;
        case 15:
          EMBERS_SCALAR(r, wt, field, p_->doc_url);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    return true;
  }

 private:
  // Rough capacity guesses from the input size so the big arrays grow once or twice, not ~20
  // times. Measured on Go heap/CPU profiles: ~70 bytes of input per sample, ~2.5 stack frames per
  // 10 bytes, ~30 bytes per location.
  void Reserve() {
    size_t n = data_.size();
    p_->samples.reserve(n / 80);
    p_->location_ids.reserve(n / 6);
    p_->values.reserve(n / 20);
    p_->locations.reserve(n / 64);
    p_->lines.reserve(n / 64);
    p_->strings.reserve(n / 128 + 1);
  }

  bool ParseValueType(Reader& r, ValueType* vt) {
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, vt->type);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, vt->unit);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    return true;
  }

  bool ParseSample(Reader& r) {
    Sample s;
    s.location_begin = static_cast<uint32_t>(p_->location_ids.size());
    s.value_begin = static_cast<uint32_t>(p_->values.size());
    s.label_begin = static_cast<uint32_t>(p_->labels.size());
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          if (wt != kVarint && wt != kLen) {
            if (!r.Skip(field, wt)) return false;
          } else if (!r.Repeated(wt, &p_->location_ids)) {
            return false;
          }
          break;
        case 2:
          if (wt != kVarint && wt != kLen) {
            if (!r.Skip(field, wt)) return false;
          } else if (!r.Repeated(wt, &p_->values)) {
            return false;
          }
          break;
        case 3:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            Label l;
            if (!ParseLabel(sub, &l)) return false;
            p_->labels.push_back(l);
          });
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    s.location_count = static_cast<uint32_t>(p_->location_ids.size() - s.location_begin);
    s.value_count = static_cast<uint32_t>(p_->values.size() - s.value_begin);
    s.label_count = static_cast<uint32_t>(p_->labels.size() - s.label_begin);
    p_->samples.push_back(s);
    return true;
  }

  bool ParseLabel(Reader& r, Label* l) {
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, l->key);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, l->str);
          break;
        case 3:
          EMBERS_SCALAR(r, wt, field, l->num);
          break;
        case 4:
          EMBERS_SCALAR(r, wt, field, l->num_unit);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    return true;
  }

  bool ParseMapping(Reader& r) {
    Mapping m;
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, m.id);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, m.memory_start);
          break;
        case 3:
          EMBERS_SCALAR(r, wt, field, m.memory_limit);
          break;
        case 4:
          EMBERS_SCALAR(r, wt, field, m.file_offset);
          break;
        case 5:
          EMBERS_SCALAR(r, wt, field, m.filename);
          break;
        case 6:
          EMBERS_SCALAR(r, wt, field, m.build_id);
          break;
        case 7:
          EMBERS_SCALAR(r, wt, field, m.has_functions);
          break;
        case 8:
          EMBERS_SCALAR(r, wt, field, m.has_filenames);
          break;
        case 9:
          EMBERS_SCALAR(r, wt, field, m.has_line_numbers);
          break;
        case 10:
          EMBERS_SCALAR(r, wt, field, m.has_inline_frames);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    p_->mappings.push_back(m);
    return true;
  }

  bool ParseLocation(Reader& r) {
    Location loc;
    loc.line_begin = static_cast<uint32_t>(p_->lines.size());
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, loc.id);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, loc.mapping_id);
          break;
        case 3:
          EMBERS_SCALAR(r, wt, field, loc.address);
          break;
        case 4:
          EMBERS_SUBMESSAGE(r, wt, field, sub, {
            Line line;
            if (!ParseLine(sub, &line)) return false;
            p_->lines.push_back(line);
          });
          break;
        case 5:
          EMBERS_SCALAR(r, wt, field, loc.is_folded);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    loc.line_count = static_cast<uint32_t>(p_->lines.size() - loc.line_begin);
    p_->locations.push_back(loc);
    return true;
  }

  bool ParseLine(Reader& r, Line* line) {
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, line->function_id);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, line->line);
          break;
        case 3:
          EMBERS_SCALAR(r, wt, field, line->column);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    return true;
  }

  bool ParseFunction(Reader& r) {
    Function f;
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          EMBERS_SCALAR(r, wt, field, f.id);
          break;
        case 2:
          EMBERS_SCALAR(r, wt, field, f.name);
          break;
        case 3:
          EMBERS_SCALAR(r, wt, field, f.system_name);
          break;
        case 4:
          EMBERS_SCALAR(r, wt, field, f.filename);
          break;
        case 5:
          EMBERS_SCALAR(r, wt, field, f.start_line);
          break;
        default:
          if (!r.Skip(field, wt)) return false;
      }
    }
    p_->functions.push_back(f);
    return true;
  }

  const std::string& data_;
  Profile* p_;
  std::string* error_;
};

#undef EMBERS_SCALAR
#undef EMBERS_SUBMESSAGE

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("invalid pprof profile: ", what));
}

// Checks a string index; `what` names the field for the error message.
#define EMBERS_CHECK_STRING(index, ...)                                                      \
  do {                                                                                       \
    int64_t i_ = (index);                                                                    \
    if (i_ < 0 || static_cast<uint64_t>(i_) >= n_strings) {                                  \
      return Invalid(StrCat(__VA_ARGS__, ": string index ", i_, " out of range (table has ", \
                            n_strings, " strings)"));                                        \
    }                                                                                        \
  } while (0)

}  // namespace

absl::Status Validate(Profile& p) {
  // The pprof format reserves string 0 for "". Some writers omit an empty table entirely when
  // every index is 0; accept that by adding the entry.
  if (p.strings.empty()) p.strings.emplace_back();
  if (!p.strings[0].empty()) return Invalid("string_table[0] must be \"\"");
  for (size_t i = 0; i < p.strings.size(); ++i) {
    if (!model::IsValidUtf8(p.strings[i])) {
      return Invalid(StrCat("string_table[", i, "] is not valid UTF-8"));
    }
  }
  const uint64_t n_strings = p.strings.size();

  // Ids: 0 is reserved for "none" in references, so no element may use it (Pyroscope's
  // ValidateProfile rejects location and function id 0 with these messages).
  for (const Location& l : p.locations) {
    if (l.id == 0) return Invalid("location id is 0");
  }
  for (const Function& f : p.functions) {
    if (f.id == 0) return Invalid("function id is 0");
  }
  for (const Mapping& m : p.mappings) {
    if (m.id == 0) return Invalid("mapping id is 0");
  }
  if (!p.RebuildIndexes()) return Invalid("duplicate location, function or mapping id");

  for (size_t i = 0; i < p.sample_types.size(); ++i) {
    EMBERS_CHECK_STRING(p.sample_types[i].type, "sample_type[", i, "].type");
    EMBERS_CHECK_STRING(p.sample_types[i].unit, "sample_type[", i, "].unit");
  }
  if (p.has_period_type) {
    EMBERS_CHECK_STRING(p.period_type.type, "period_type.type");
    EMBERS_CHECK_STRING(p.period_type.unit, "period_type.unit");
  }
  EMBERS_CHECK_STRING(p.drop_frames, "drop_frames");
  EMBERS_CHECK_STRING(p.keep_frames, "keep_frames");
  EMBERS_CHECK_STRING(p.default_sample_type, "default_sample_type");
  EMBERS_CHECK_STRING(p.doc_url, "doc_url");
  for (size_t i = 0; i < p.comments.size(); ++i)
    EMBERS_CHECK_STRING(p.comments[i], "comment[", i, "]");

  const size_t n_types = p.sample_types.size();
  for (size_t i = 0; i < p.samples.size(); ++i) {
    const Sample& s = p.samples[i];
    if (s.value_count != n_types) {
      return Invalid(StrCat("sample[", i, "] has ", s.value_count, " values, expected ", n_types,
                            " (one per sample type)"));
    }
    for (uint64_t id : p.SampleLocations(s)) {
      if (p.LocationIndex(id) < 0) {
        return Invalid(
            StrCat("sample[", i, "] refers to location id ", id, " which does not exist"));
      }
    }
    for (const Label& l : p.SampleLabels(s)) {
      EMBERS_CHECK_STRING(l.key, "sample[", i, "].label.key");
      EMBERS_CHECK_STRING(l.str, "sample[", i, "].label.str");
      EMBERS_CHECK_STRING(l.num_unit, "sample[", i, "].label.num_unit");
    }
  }
  for (const Location& loc : p.locations) {
    if (loc.mapping_id != 0 && p.MappingIndex(loc.mapping_id) < 0) {
      return Invalid(StrCat("location id ", loc.id, " refers to mapping id ", loc.mapping_id,
                            " which does not exist"));
    }
    for (const Line& line : p.LocationLines(loc)) {
      if (line.function_id != 0 && p.FunctionIndex(line.function_id) < 0) {
        return Invalid(StrCat("location id ", loc.id, " refers to function id ", line.function_id,
                              " which does not exist"));
      }
    }
  }
  for (const Function& f : p.functions) {
    EMBERS_CHECK_STRING(f.name, "function id ", f.id, " name");
    EMBERS_CHECK_STRING(f.system_name, "function id ", f.id, " system_name");
    EMBERS_CHECK_STRING(f.filename, "function id ", f.id, " filename");
  }
  for (const Mapping& m : p.mappings) {
    EMBERS_CHECK_STRING(m.filename, "mapping id ", m.id, " filename");
    EMBERS_CHECK_STRING(m.build_id, "mapping id ", m.id, " build_id");
  }
  return absl::OkStatus();
}

#undef EMBERS_CHECK_STRING

absl::StatusOr<Profile> DecodeRaw(std::shared_ptr<const std::string> raw,
                                  const DecodeOptions& options) {
  if (options.max_decompressed_size != 0 && raw->size() > options.max_decompressed_size) {
    return PayloadTooLargeError(StrCat("uncompressed profile is ", raw->size(),
                                       " bytes, more than the limit of ",
                                       options.max_decompressed_size, " bytes"));
  }
  if (raw->size() > UINT32_MAX / 2) return Invalid("profile larger than 2 GiB");
  Profile p;
  std::string error;
  Parser parser(*raw, &p, &error);
  if (!parser.Parse()) return Invalid(error);
  p.backing.push_back(std::move(raw));
  if (options.validate) EMBERS_RETURN_IF_ERROR(Validate(p));
  return p;
}

absl::StatusOr<Profile> Decode(std::string_view data, const DecodeOptions& options) {
  // A zero limit means "unlimited" for us but not for the decompressor.
  size_t limit = options.max_decompressed_size != 0 ? options.max_decompressed_size : SIZE_MAX;
  auto raw = std::make_shared<std::string>();
  if (SniffCompression(data) == Compression::kNone) {
    if (data.size() > limit) {
      return PayloadTooLargeError(StrCat("uncompressed profile is ", data.size(),
                                         " bytes, more than the limit of ", limit, " bytes"));
    }
    raw->assign(data);
  } else {
    absl::StatusOr<std::string> inflated = MaybeDecompress(data, limit);
    if (!inflated.ok()) return Annotate(inflated.status(), "decompressing pprof profile");
    *raw = std::move(*inflated);
  }
  return DecodeRaw(std::move(raw), options);
}

}  // namespace embers::pprof
