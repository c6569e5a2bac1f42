#include "pprof/decoder.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "model/labels.h"
#include "pprof/sample_arrays_cache.h"

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

// Decodes the varint at `p` (bounded by `end`) into `*out`; returns the position after it, or
// nullptr when it is truncated, longer than 10 bytes or overflows 64 bits. One- and two-byte
// varints (tags, ids and string indexes of typical profiles) take the first two branches.
[[gnu::always_inline]] inline const uint8_t* ReadVarint(const uint8_t* p, const uint8_t* end,
                                                        uint64_t* out) {
  if (p < end && p[0] < 0x80) {
    *out = p[0];
    return p + 1;
  }
  if (end - p >= 2 && p[1] < 0x80) {
    *out = (p[0] & 0x7fu) | (static_cast<uint64_t>(p[1]) << 7);
    return p + 2;
  }
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return nullptr;
    uint8_t b = *p++;
    if (shift == 63 && b > 1) return nullptr;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *out = v;
      return p;
    }
  }
  return nullptr;
}

// The smallest and largest of a set of values (min > max while it is empty).
struct ValueRange {
  uint64_t min = UINT64_MAX;
  uint64_t max = 0;
  void Add(uint64_t v) {
    min = std::min(min, v);
    max = std::max(max, v);
  }
};

#if defined(__SSE2__)
// Widens eight 16-bit lanes to eight uint64 at out[0..7].
inline void StoreWidened(__m128i v, uint64_t* out) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i a = _mm_unpacklo_epi16(v, zero);
  const __m128i b = _mm_unpackhi_epi16(v, zero);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi32(a, zero));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), _mm_unpackhi_epi32(a, zero));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4), _mm_unpacklo_epi32(b, zero));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 6), _mm_unpackhi_epi32(b, zero));
}

// Running min/max of the values DecodeShortRun produced, in 16-bit lanes (they are < 16384).
struct ShortRunRange {
  __m128i min = _mm_set1_epi16(0x7fff);
  __m128i max = _mm_setzero_si128();
  bool used = false;

  // Adds the first `k` lanes of `v`.
  void Add(__m128i v, int k) {
    const __m128i keep = _mm_cmplt_epi16(_mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7),
                                         _mm_set1_epi16(static_cast<int16_t>(k)));
    max = _mm_max_epi16(max, _mm_and_si128(v, keep));
    min = _mm_min_epi16(
        min, _mm_or_si128(_mm_and_si128(v, keep), _mm_andnot_si128(keep, _mm_set1_epi16(0x7fff))));
    used = true;
  }

  void AddTo(ValueRange* r) const {
    if (!used) return;
    alignas(16) int16_t lo[8], hi[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(lo), min);
    _mm_store_si128(reinterpret_cast<__m128i*>(hi), max);
    for (int i = 0; i < 8; ++i) {
      r->min = std::min(r->min, static_cast<uint64_t>(lo[i]));
      r->max = std::max(r->max, static_cast<uint64_t>(hi[i]));
    }
  }
};

// Stack location ids are one- or two-byte varints (ids below 16384) in runs: the root frames of
// every stack are among the first locations written. Decodes the run of same-length short
// varints that starts at p (up to 16 one-byte or 8 two-byte ones, never past `avail` bytes)
// with SSE2, writing them to out[0..16) (beyond `*count` is scratch). Returns the bytes
// consumed: 0 when the varint at p is longer than two bytes or cut by the end. 16 bytes from p
// must be readable.
inline size_t DecodeShortRun(const uint8_t* p, size_t avail, uint64_t* out, size_t* count,
                             ShortRunRange* range) {
  const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const unsigned more = static_cast<unsigned>(_mm_movemask_epi8(chunk));  // bit i: byte i continues
  const __m128i zero = _mm_setzero_si128();
  if ((more & 1) == 0) {  // one-byte varints up to the first byte with the high bit set
    size_t k = std::min<size_t>(static_cast<size_t>(__builtin_ctz(more | 0x10000)), avail);
    const __m128i lo = _mm_unpacklo_epi8(chunk, zero);
    const __m128i hi = _mm_unpackhi_epi8(chunk, zero);
    StoreWidened(lo, out);
    StoreWidened(hi, out + 8);
    range->Add(lo, static_cast<int>(k));
    if (k > 8) range->Add(hi, static_cast<int>(k - 8));
    *count = k;
    return k;
  }
  if ((more & 3) == 1) {  // two-byte varints: high bit set in even bytes, clear in odd ones
    size_t k = std::min<size_t>(static_cast<size_t>(__builtin_ctz((more ^ 0x5555) | 0x10000)) / 2,
                                avail / 2);
    if (k == 0) return 0;
    const __m128i v = _mm_or_si128(_mm_and_si128(chunk, _mm_set1_epi16(0x7f)),
                                   _mm_srli_epi16(_mm_and_si128(chunk, _mm_set1_epi16(0x7f00)), 1));
    StoreWidened(v, out);
    range->Add(v, static_cast<int>(k));
    *count = k;
    return 2 * k;
  }
  return 0;
}
#endif

#if !defined(__SSE2__)
struct ShortRunRange {
  void AddTo(ValueRange*) const {}
};
#endif

// Appends to Profile::location_ids through a pointer: the vector is grown in big steps ahead of
// the ids (its size runs ahead of `size()`, the ids written so far) and cut to size at the end,
// so the decoding loops store without a capacity check per id.
class IdSink {
 public:
  explicit IdSink(std::vector<uint64_t>* ids) : ids_(ids), size_(ids->size()) {}

  size_t size() const { return size_; }

  // A pointer to room for `n` more ids (writing past what is Commit()ted is allowed).
  uint64_t* Room(size_t n) {
    if (ids_->size() - size_ < n) {
      // resize() zeroes the new elements: grow by what is there already (so a small profile
      // zeroes little), 256 KiB at the most (so it is in cache when the ids are written).
      ids_->resize(size_ + std::max(n, std::clamp<size_t>(size_, 1024, 32768)));
    }
    return ids_->data() + size_;
  }
  void Commit(size_t n) { size_ += n; }
  void Append(uint64_t id) {
    *Room(1) = id;
    Commit(1);
  }
  // Cuts the vector to the ids written.
  void Finish() { ids_->resize(size_); }

 private:
  std::vector<uint64_t>* ids_;
  size_t size_;
};

// A cursor over one protobuf message. Positions are absolute offsets into the whole input so
// errors can name where decoding failed. Methods return false on malformed input after
// recording the reason in `*error`.
class Reader {
 public:
  // `limit` is the size of the whole input: packed location ids are loaded 16 bytes at a time,
  // which may read (never use) bytes past the end of their field up to there.
  Reader(const uint8_t* base, size_t begin, size_t end, size_t limit, std::string* error)
      : base_(base), pos_(begin), end_(end), limit_(limit), error_(error) {}

  bool done() const { return pos_ >= end_; }
  size_t pos() const { return pos_; }

  // Inlined everywhere: tags and scalars are most of what the parser reads.
  [[gnu::always_inline]] bool Varint(uint64_t* out) {
    const uint8_t* next = ReadVarint(base_ + pos_, base_ + end_, out);
    if (next == nullptr) return VarintError(pos_, end_);
    pos_ = static_cast<size_t>(next - base_);
    return true;
  }

  [[gnu::always_inline]] bool Tag(uint32_t* field, uint32_t* wire_type) {
    size_t start = pos_;
    uint64_t tag = 0;
    if (!Varint(&tag)) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return Fail(start, "invalid field number");
    return true;
  }

  // Reads a length prefix and returns the [begin, end) of the payload, advancing past it.
  [[gnu::always_inline]] bool Len(size_t* begin, size_t* end) {
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
    // Every value takes at least one byte: one reservation covers the field, so push_back
    // below never reallocates.
    if (out->capacity() - out->size() < e - b) {
      out->reserve(std::max(out->size() + (e - b), out->capacity() * 2));
    }
    const uint8_t* p = base_ + b;
    const uint8_t* end = base_ + e;
    while (p < end) {
      const uint8_t* next = ReadVarint(p, end, &v);
      if (next == nullptr) return VarintError(static_cast<size_t>(p - base_), e);
      p = next;
      out->push_back(static_cast<T>(v));
    }
    return true;
  }

  // The packed location ids of a sample, appended to `ids`. With SSE2, runs of short varints
  // are decoded 16 bytes at a time (see DecodeShortRun); anything else one varint at a time.
  bool PackedIds(IdSink* ids, ShortRunRange* short_range, ValueRange* range) {
    size_t b = 0, e = 0;
    if (!Len(&b, &e)) return false;
    const uint8_t* p = base_ + b;
    const uint8_t* end = base_ + e;
    // At most one id per byte, and room for a run's whole vectors past the last one.
    uint64_t* out = ids->Room(e - b + 16);
    uint64_t* const first = out;
    ValueRange r = *range;
#if !defined(__SSE2__)
    (void)short_range;
#endif
    while (p < end) {
#if defined(__SSE2__)
      if (limit_ - static_cast<size_t>(p - base_) >= 16) {
        size_t count = 0;
        size_t used = DecodeShortRun(p, static_cast<size_t>(end - p), out, &count, short_range);
        if (used != 0) {
          p += used;
          out += count;
          continue;
        }
      }
#endif
      uint64_t v = 0;
      const uint8_t* next = ReadVarint(p, end, &v);
      if (next == nullptr) return VarintError(static_cast<size_t>(p - base_), e);
      p = next;
      r.Add(v);
      *out++ = v;
    }
    ids->Commit(static_cast<size_t>(out - first));
    *range = r;
    return true;
  }

  // Names the problem with the varint at `offset`, which ReadVarint could not read before
  // `end` (the end of this message, or of the packed field it is in).
  bool VarintError(size_t offset, size_t end) {
    size_t n = std::min<size_t>(end - offset, 10);
    for (size_t i = 0; i < n; ++i) {
      if (base_[offset + i] < 0x80) return Fail(offset, "varint overflows 64 bits");
    }
    return Fail(offset, n == 10 ? "varint longer than 10 bytes" : "truncated varint");
  }

  bool Fail(size_t offset, std::string_view what) {
    *error_ = StrCat(what, " at byte offset ", offset);
    return false;
  }

  const uint8_t* base() const { return base_; }
  size_t limit() const { return limit_; }
  std::string* error() const { return error_; }

 private:
  const uint8_t* base_;
  size_t pos_;
  size_t end_;
  size_t limit_;
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
#define EMBERS_SUBMESSAGE(reader, wire_type, field_no, sub, body)              \
  do {                                                                         \
    if ((wire_type) != kLen) {                                                 \
      if (!(reader).Skip((field_no), (wire_type))) return false;               \
    } else {                                                                   \
      size_t b_ = 0, e_ = 0;                                                   \
      if (!(reader).Len(&b_, &e_)) return false;                               \
      Reader sub((reader).base(), b_, e_, (reader).limit(), (reader).error()); \
      body;                                                                    \
    }                                                                          \
  } while (0)

// What the parser learns on the way that lets Validate skip work.
struct ParseStats {
  ValueRange location_ids;  // of the ids referenced by samples
};

class Parser {
 public:
  Parser(const std::string& data, Profile* p, ParseStats* stats, std::string* error)
      : data_(data), p_(p), stats_(stats), error_(error), ids_(&p->location_ids) {}

  bool Parse() {
    Reader r(reinterpret_cast<const uint8_t*>(data_.data()), 0, data_.size(), data_.size(), error_);
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
    ids_.Finish();
    short_range_.AddTo(&stats_->location_ids);
    return true;
  }

 private:
  // Capacity guesses from the input size so the big arrays grow once at most (and not at all
  // when they were reused from the previous profile, see sample_arrays_cache.h). Go heap and CPU
  // profiles have 65-70 bytes of input per sample, 2.8-4 bytes per stack frame and 200 bytes
  // per location; reserving more than is used costs address space, not memory.
  void Reserve() {
    size_t n = data_.size();
    p_->samples.reserve(n / 48);
    p_->location_ids.reserve(n / 2);
    p_->values.reserve(n / 16);
    p_->labels.reserve(n / 64);
    p_->locations.reserve(n / 160);
    p_->lines.reserve(n / 128);
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
    s.location_begin = static_cast<uint32_t>(ids_.size());
    s.value_begin = static_cast<uint32_t>(p_->values.size());
    s.label_begin = static_cast<uint32_t>(p_->labels.size());
    while (!r.done()) {
      uint32_t field = 0, wt = 0;
      if (!r.Tag(&field, &wt)) return false;
      switch (field) {
        case 1:
          if (wt == kLen) {
            if (!r.PackedIds(&ids_, &short_range_, &stats_->location_ids)) return false;
          } else if (wt == kVarint) {
            uint64_t id = 0;
            if (!r.Varint(&id)) return false;
            ids_.Append(id);
            stats_->location_ids.Add(id);
          } else if (!r.Skip(field, wt)) {
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
    s.location_count = static_cast<uint32_t>(ids_.size() - s.location_begin);
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
  ParseStats* stats_;
  std::string* error_;
  IdSink ids_;
  ShortRunRange short_range_;
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

// Validate, given what the parser saw (or nothing, for profiles built in code).
absl::Status ValidateParsed(Profile& p, const ParseStats* stats) {
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

  // With ids 1..N (the usual case) the id range the parser saw settles every stack reference
  // at once; otherwise each id is looked up.
  const bool all_location_ids_exist =
      stats != nullptr && p.dense_location_ids &&
      (stats->location_ids.min > stats->location_ids.max ||
       (stats->location_ids.min >= 1 && stats->location_ids.max <= p.locations.size()));
  const size_t n_types = p.sample_types.size();
  for (size_t i = 0; i < p.samples.size(); ++i) {
    const Sample& s = p.samples[i];
    if (s.value_count != n_types) {
      return Invalid(StrCat("sample[", i, "] has ", s.value_count, " values, expected ", n_types,
                            " (one per sample type)"));
    }
    if (!all_location_ids_exist) {
      for (uint64_t id : p.SampleLocations(s)) {
        if (p.LocationIndex(id) < 0) {
          return Invalid(
              StrCat("sample[", i, "] refers to location id ", id, " which does not exist"));
        }
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

}  // namespace

#undef EMBERS_CHECK_STRING

absl::Status Validate(Profile& p) { return ValidateParsed(p, nullptr); }

absl::StatusOr<Profile> DecodeRaw(std::shared_ptr<const std::string> raw,
                                  const DecodeOptions& options) {
  if (options.max_decompressed_size != 0 && raw->size() > options.max_decompressed_size) {
    return PayloadTooLargeError(StrCat("uncompressed profile is ", raw->size(),
                                       " bytes, more than the limit of ",
                                       options.max_decompressed_size, " bytes"));
  }
  if (raw->size() > UINT32_MAX / 2) return Invalid("profile larger than 2 GiB");
  Profile p;
  ReuseSampleArrays(p);
  std::string error;
  ParseStats stats;
  Parser parser(*raw, &p, &stats, &error);
  if (!parser.Parse()) return Invalid(error);
  p.backing.push_back(std::move(raw));
  if (options.validate) EMBERS_RETURN_IF_ERROR(ValidateParsed(p, &stats));
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
