// Varint / zigzag / fixed-width encoding and a bounds-checked reader.
//
// The object format (docs/format.md) and other binary encodings of ours are written with the
// Put* functions and read with ByteReader, which never reads past its input: every Read* returns
// false on truncation or a malformed varint, and the caller turns that into an error naming what
// it was reading. Header-only: these sit on hot loops.
#ifndef EMBERS_BASE_VARINT_H_
#define EMBERS_BASE_VARINT_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace embers {

// Writes `v` at `p` (at most 10 bytes); returns the end.
inline char* EncodeVarint64(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  out->append(buf, EncodeVarint64(buf, v) - buf);
}

inline uint64_t ZigzagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigzagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
inline void PutZigzag64(std::string* out, int64_t v) { PutVarint64(out, ZigzagEncode(v)); }

// Bytes PutVarint64 writes for `v` (1–10).
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Appends many varints at once: `encode(p)` writes at most `max_bytes` at `p` and returns the end.
// Columns of thousands of values are written this way without a size check per value.
template <typename Encode>
inline void AppendEncoded(std::string* out, size_t max_bytes, Encode&& encode) {
  const size_t old = out->size();
  out->resize(old + max_bytes);
  char* end = encode(out->data() + old);
  out->resize(static_cast<size_t>(end - out->data()));
}

inline void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 4);
}
inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}
inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  // At most 10 bytes, and the 10th may only carry the 64th bit: anything longer or larger is
  // refused (as Go's binary.Uvarint does) rather than silently truncated.
  bool ReadVarint64(uint64_t* v) {
    // Fast path, when the longest varint fits: no bounds check per byte, constant shifts.
    if (remaining() >= 10) {
      const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
      uint64_t result = 0;
      for (int i = 0; i < 10; ++i) {
        const uint64_t b = p[i];
        if (i == 9 && b > 1) return false;
        result |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
          pos_ += static_cast<size_t>(i) + 1;
          *v = result;
          return true;
        }
      }
      return false;
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return false;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  // A varint that must fit in 32 bits (counts, indexes).
  bool ReadVarint32(uint32_t* v) {
    uint64_t x;
    if (!ReadVarint64(&x) || x > UINT32_MAX) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool ReadZigzag64(int64_t* v) {
    uint64_t x;
    if (!ReadVarint64(&x)) return false;
    *v = ZigzagDecode(x);
    return true;
  }
  bool ReadFixed32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = DecodeFixed32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool ReadFixed64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = DecodeFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool ReadByte(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // Moves past `n` bytes; false (not moving) when fewer remain.
  bool Skip(uint64_t n) {
    if (remaining() < n) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }
  // Moves past `count` varints without decoding them (each ends at a byte below 0x80; their
  // lengths are not checked, a later Read* of them would). False, and the position undefined,
  // when fewer remain. Readers of columnar data use it to find where a column ends, eight bytes
  // at a time.
  bool SkipVarints(uint64_t count) {
    constexpr uint64_t kHighBits = 0x8080808080808080ull;
    while (count > 0 && remaining() >= 8) {
      uint64_t word;
      std::memcpy(&word, data_.data() + pos_, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      uint64_t ends = ~word & kHighBits;  // bit 8i+7 set where byte i ends a varint
      // The number of ends: the bytes of (ends >> 7) are 0 or 1, the multiply sums them into the
      // top byte (no popcnt instruction in the baseline x86-64 this is built for).
      const uint64_t n = ((ends >> 7) * 0x0101010101010101ull) >> 56;
      if (n < count) {
        count -= n;
        pos_ += 8;
        continue;
      }
      for (; count > 1; --count) ends &= ends - 1;  // drop the ends before the last one needed
      pos_ += static_cast<size_t>(std::countr_zero(ends)) / 8 + 1;
      return true;
    }
    while (count > 0 && pos_ < data_.size()) {
      if ((static_cast<uint8_t>(data_[pos_++]) & 0x80) == 0) --count;
    }
    return count == 0;
  }
  bool ReadLengthPrefixed(std::string_view* out) {
    uint64_t n;
    return ReadVarint64(&n) && n <= remaining() && ReadBytes(static_cast<size_t>(n), out);
  }

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace embers

#endif  // EMBERS_BASE_VARINT_H_
