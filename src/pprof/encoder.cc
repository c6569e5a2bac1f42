#include "pprof/encoder.h"

namespace embers::pprof {

namespace {

constexpr uint32_t kVarint = 0;
constexpr uint32_t kLen = 2;

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutTag(std::string* out, uint32_t field, uint32_t wire_type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

// proto3: scalar fields equal to zero are not written.
void PutScalar(std::string* out, uint32_t field, uint64_t v) {
  if (v == 0) return;
  PutTag(out, field, kVarint);
  PutVarint(out, v);
}
void PutScalar(std::string* out, uint32_t field, int64_t v) {
  PutScalar(out, field, static_cast<uint64_t>(v));
}

void PutBytes(std::string* out, uint32_t field, std::string_view bytes) {
  PutTag(out, field, kLen);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

template <class T>
void PutPacked(std::string* out, std::string* scratch, uint32_t field, std::span<const T> vs) {
  if (vs.empty()) return;
  scratch->clear();
  for (T v : vs) PutVarint(scratch, static_cast<uint64_t>(v));
  PutBytes(out, field, *scratch);
}

void PutValueType(std::string* out, std::string* scratch, uint32_t field, const ValueType& vt) {
  scratch->clear();
  PutScalar(scratch, 1, vt.type);
  PutScalar(scratch, 2, vt.unit);
  PutBytes(out, field, *scratch);
}

}  // namespace

void EncodeTo(const Profile& p, std::string* out) {
  // Two scratch buffers: `msg` holds one sub-message, `inner` the packed fields or nested
  // messages inside it. Reused across elements so encoding allocates O(1) times.
  std::string msg, inner, packed;
  for (const ValueType& vt : p.sample_types) PutValueType(out, &msg, 1, vt);
  for (const Sample& s : p.samples) {
    msg.clear();
    PutPacked(&msg, &packed, 1, p.SampleLocations(s));
    PutPacked(&msg, &packed, 2, p.SampleValues(s));
    for (const Label& l : p.SampleLabels(s)) {
      inner.clear();
      PutScalar(&inner, 1, l.key);
      PutScalar(&inner, 2, l.str);
      PutScalar(&inner, 3, l.num);
      PutScalar(&inner, 4, l.num_unit);
      PutBytes(&msg, 3, inner);
    }
    PutBytes(out, 2, msg);
  }
  for (const Mapping& m : p.mappings) {
    msg.clear();
    PutScalar(&msg, 1, m.id);
    PutScalar(&msg, 2, m.memory_start);
    PutScalar(&msg, 3, m.memory_limit);
    PutScalar(&msg, 4, m.file_offset);
    PutScalar(&msg, 5, m.filename);
    PutScalar(&msg, 6, m.build_id);
    PutScalar(&msg, 7, uint64_t{m.has_functions});
    PutScalar(&msg, 8, uint64_t{m.has_filenames});
    PutScalar(&msg, 9, uint64_t{m.has_line_numbers});
    PutScalar(&msg, 10, uint64_t{m.has_inline_frames});
    PutBytes(out, 3, msg);
  }
  for (const Location& loc : p.locations) {
    msg.clear();
    PutScalar(&msg, 1, loc.id);
    PutScalar(&msg, 2, loc.mapping_id);
    PutScalar(&msg, 3, loc.address);
    for (const Line& line : p.LocationLines(loc)) {
      inner.clear();
      PutScalar(&inner, 1, line.function_id);
      PutScalar(&inner, 2, line.line);
      PutScalar(&inner, 3, line.column);
      PutBytes(&msg, 4, inner);
    }
    PutScalar(&msg, 5, uint64_t{loc.is_folded});
    PutBytes(out, 4, msg);
  }
  for (const Function& f : p.functions) {
    msg.clear();
    PutScalar(&msg, 1, f.id);
    PutScalar(&msg, 2, f.name);
    PutScalar(&msg, 3, f.system_name);
    PutScalar(&msg, 4, f.filename);
    PutScalar(&msg, 5, f.start_line);
    PutBytes(out, 5, msg);
  }
  // Every string is written, including the leading "": the table is positional.
  for (std::string_view s : p.strings) PutBytes(out, 6, s);
  PutScalar(out, 7, p.drop_frames);
  PutScalar(out, 8, p.keep_frames);
  PutScalar(out, 9, p.time_nanos);
  PutScalar(out, 10, p.duration_nanos);
  if (p.has_period_type) PutValueType(out, &msg, 11, p.period_type);
  PutScalar(out, 12, p.period);
  PutPacked(out, &packed, 13, std::span<const int64_t>(p.comments));
  PutScalar(out, 14, p.default_sample_type);
  PutScalar(out, 15, p.doc_url);
}

}  // namespace embers::pprof
