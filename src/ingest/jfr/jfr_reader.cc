#include "ingest/jfr/jfr_reader.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "base/strings.h"

namespace embers::jfr {

namespace {

constexpr uint64_t kHeaderSize = 68;
constexpr uint64_t kMetadataEventType = 0;
constexpr uint64_t kCheckpointEventType = 1;
// Nesting limits. Real recordings use a metadata tree ~4 deep and values nested ~3 deep.
constexpr int kMaxElementDepth = 32;
constexpr int kMaxValueDepth = 16;

// Slots an event or pool value is decoded into: fields are bound to slots by name once per chunk,
// so decoding an event is a loop over its fields with no name comparisons.
enum Slot : int8_t {
  kSkip = -1,
  // integer slots
  kStartTime = 0,
  kDuration,
  kThread,
  kStackTrace,
  kState,
  kContextId,
  kTlabSize,
  kAllocationSize,
  kSamples,
  kWeight,
  kMethod,
  kLineNumber,
  kBytecodeIndex,
  kType,
  kNameRef,
  kTruncated,
  kNumIntSlots,
  // string slots (index = slot - kFirstStringSlot)
  kFirstStringSlot = 32,
  kName = kFirstStringSlot,
  kValue,
  kJavaName,
  kOsName,
  kString,
  kEndSlots,
};
constexpr int kNumStringSlots = kEndSlots - kFirstStringSlot;

struct Slots {
  uint64_t ints[kNumIntSlots];
  std::string_view strs[kNumStringSlots];
  void Reset() {
    std::memset(ints, 0, sizeof(ints));
    for (auto& s : strs) s = {};
  }
};

}  // namespace

namespace internal {

// How one value is encoded.
enum class Kind : uint8_t { kVarint, kByte, kFloat, kDouble, kString, kStruct };

struct Field {
  std::string_view name;
  uint64_t type_id = 0;
  int32_t class_index = -1;   // for kStruct
  Kind kind = Kind::kVarint;  // kVarint for constant-pool references
  bool constant_pool = false;
  bool array = false;
};

struct Class {
  uint64_t id = 0;
  std::string_view name;
  Kind kind = Kind::kStruct;  // a primitive kind for "int", "java.lang.String", ...
  std::vector<Field> fields;
};

// An event type we decode, with its fields bound to slots.
struct EventPlan {
  JfrEventType type;
  uint32_t class_index;
  std::vector<int8_t> slots;  // per field
};

// What the metadata event of a chunk tells us, resolved for decoding.
struct ChunkMetadata {
  std::vector<Class> classes;
  absl::flat_hash_map<uint64_t, uint32_t> class_by_id;
  std::vector<EventPlan> plans;
  absl::flat_hash_map<uint64_t, uint32_t> plan_by_type;
  // Slot bindings of the pool types we keep, indexed like `classes` (empty = not kept).
  std::vector<std::vector<int8_t>> pool_slots;
  int32_t stack_trace_class = -1;
  int32_t stack_frame_class = -1;
  int32_t method_class = -1;
  int32_t class_class = -1;
  int32_t symbol_class = -1;
  int32_t thread_state_class = -1;
  int32_t thread_class = -1;
  int32_t string_class = -1;
};

// A bounds-checked view of [pos, end) of the file. Reads fail (return false) instead of
// overrunning; the caller turns a failure into a status naming the offset.
class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t pos, uint64_t end)
      : base_(base), p_(base + pos), end_(base + end) {}

  uint64_t pos() const { return static_cast<uint64_t>(p_ - base_); }
  uint64_t remaining() const { return static_cast<uint64_t>(end_ - p_); }

  bool Byte(uint8_t* v) {
    if (p_ >= end_) return false;
    *v = *p_++;
    return true;
  }

  // JFR's compressed long: 7 bits per byte for up to 8 bytes, then a full 9th byte.
  bool VarLong(uint64_t* v) {
    uint64_t r = 0;
    if (end_ - p_ >= 9) {  // fast path: no per-byte bounds checks
      for (int i = 0; i < 8; ++i) {
        uint8_t b = *p_++;
        r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if (b < 0x80) {
          *v = r;
          return true;
        }
      }
      *v = r | (static_cast<uint64_t>(*p_++) << 56);
      return true;
    }
    for (int i = 0; i < 8; ++i) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        *v = r;
        return true;
      }
    }
    if (p_ >= end_) return false;
    *v = r | (static_cast<uint64_t>(*p_++) << 56);
    return true;
  }

  bool Skip(uint64_t n) {
    if (remaining() < n) return false;
    p_ += n;
    return true;
  }

  bool Bytes(uint64_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

  // A count of items that each take at least one byte, checked against what is left so that a
  // huge declared count fails here instead of driving a long loop or a big allocation.
  bool Count(uint64_t* n) { return VarLong(n) && *n <= remaining(); }

 private:
  const uint8_t* base_;
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace internal

using internal::ChunkMetadata;
using internal::Class;
using internal::Cursor;
using internal::EventPlan;
using internal::Field;
using internal::Kind;

namespace {

uint64_t ReadBE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  int64_t v = 0;
  if (!ParseInt64(s, &v)) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    // UTF-16 code units (surrogates included) become 3-byte sequences; astral-plane characters
    // in class and method names are vanishingly rare.
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

int8_t IntSlotForEventField(std::string_view name) {
  if (name == "startTime") return kStartTime;
  if (name == "duration") return kDuration;
  if (name == "eventThread" || name == "sampledThread") return kThread;
  if (name == "stackTrace") return kStackTrace;
  if (name == "state") return kState;
  if (name == "contextId") return kContextId;
  if (name == "tlabSize") return kTlabSize;
  if (name == "allocationSize") return kAllocationSize;
  if (name == "samples") return kSamples;
  if (name == "weight") return kWeight;
  return kSkip;
}

int8_t IntSlotForPoolField(std::string_view name) {
  if (name == "method") return kMethod;
  if (name == "lineNumber") return kLineNumber;
  if (name == "bytecodeIndex") return kBytecodeIndex;
  if (name == "type") return kType;     // StackFrame.type (FrameType), Method.type (Class)
  if (name == "name") return kNameRef;  // Class.name, Method.name (Symbol references)
  if (name == "truncated") return kTruncated;
  return kSkip;
}

int8_t StringSlotForField(std::string_view name) {
  if (name == "name") return kName;
  if (name == "value") return kValue;
  if (name == "javaName") return kJavaName;
  if (name == "osName") return kOsName;
  if (name == "string") return kString;
  return kSkip;
}

// Binds the scalar fields of `cls` to slots: integer-like fields (and references) by
// int_slot(name), strings by StringSlotForField(name). Arrays and structs are skipped.
std::vector<int8_t> BindSlots(const Class& cls, int8_t (*int_slot)(std::string_view)) {
  std::vector<int8_t> slots(cls.fields.size(), kSkip);
  for (size_t i = 0; i < cls.fields.size(); ++i) {
    const Field& f = cls.fields[i];
    if (f.array) continue;
    if (f.constant_pool || f.kind == Kind::kVarint || f.kind == Kind::kByte) {
      slots[i] = int_slot(f.name);
    } else if (f.kind == Kind::kString) {
      slots[i] = StringSlotForField(f.name);
    }
  }
  return slots;
}

struct EventName {
  std::string_view name;
  JfrEventType type;
};
constexpr EventName kEventNames[] = {
    {"jdk.ExecutionSample", JfrEventType::kExecutionSample},
    {"profiler.WallClockSample", JfrEventType::kWallClockSample},
    {"jdk.ObjectAllocationInNewTLAB", JfrEventType::kAllocInNewTlab},
    {"jdk.ObjectAllocationOutsideTLAB", JfrEventType::kAllocOutsideTlab},
    {"jdk.ObjectAllocationSample", JfrEventType::kAllocSample},
    {"profiler.LiveObject", JfrEventType::kLiveObject},
    {"jdk.JavaMonitorEnter", JfrEventType::kMonitorEnter},
    {"jdk.ThreadPark", JfrEventType::kThreadPark},
    {"jdk.ActiveSetting", JfrEventType::kActiveSetting},
};

Kind PrimitiveKind(std::string_view name) {
  if (name == "int" || name == "long" || name == "short" || name == "char") return Kind::kVarint;
  if (name == "byte" || name == "boolean") return Kind::kByte;
  if (name == "float") return Kind::kFloat;
  if (name == "double") return Kind::kDouble;
  if (name == "java.lang.String") return Kind::kString;
  return Kind::kStruct;
}

// Decoding of values described by the metadata; shared by pools and events.
class ValueDecoder {
 public:
  // `budget` bounds the struct fields visited per chunk (see JfrReader::budget_).
  ValueDecoder(const ChunkMetadata& meta,
               const absl::flat_hash_map<uint64_t, std::string_view>& string_pool,
               std::deque<std::string>* owned, int64_t* budget)
      : meta_(meta), string_pool_(string_pool), owned_(owned), budget_(budget) {}

  // A JFR string: 0 null, 1 empty, 2 constant-pool reference, 3 UTF-8, 4 UTF-16 code units as
  // varints, 5 Latin-1. A reference resolves against the java.lang.String pool read so far (an
  // encoding the JDK and async-profiler do not use for the pools we read).
  bool String(Cursor& c, std::string_view* out) const {
    uint8_t enc;
    if (!c.Byte(&enc)) return false;
    switch (enc) {
      case 0:
      case 1:
        *out = {};
        return true;
      case 2: {
        uint64_t ref;
        if (!c.VarLong(&ref)) return false;
        auto it = string_pool_.find(ref);
        *out = it == string_pool_.end() ? std::string_view() : it->second;
        return true;
      }
      case 3: {
        uint64_t n;
        return c.VarLong(&n) && c.Bytes(n, out);
      }
      case 4: {
        uint64_t n;
        if (!c.Count(&n)) return false;
        std::string s;
        s.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          uint64_t ch;
          if (!c.VarLong(&ch)) return false;
          AppendUtf8(s, static_cast<uint32_t>(ch & 0xffff));
        }
        *out = Own(std::move(s));
        return true;
      }
      case 5: {
        uint64_t n;
        std::string_view raw;
        if (!c.VarLong(&n) || !c.Bytes(n, &raw)) return false;
        std::string s;
        s.reserve(n);
        for (unsigned char ch : raw) AppendUtf8(s, ch);
        *out = Own(std::move(s));
        return true;
      }
      default:
        return false;
    }
  }

  bool SkipValue(Cursor& c, Kind kind, int32_t class_index, int depth) const {
    switch (kind) {
      case Kind::kVarint: {
        uint64_t v;
        return c.VarLong(&v);
      }
      case Kind::kByte:
        return c.Skip(1);
      case Kind::kFloat:
        return c.Skip(4);
      case Kind::kDouble:
        return c.Skip(8);
      case Kind::kString: {
        std::string_view s;
        return String(c, &s);
      }
      case Kind::kStruct:
        return class_index >= 0 && SkipStruct(c, meta_.classes[class_index], depth);
    }
    return false;
  }

  bool SkipField(Cursor& c, const Field& f, int depth) const {
    Kind kind = f.constant_pool ? Kind::kVarint : f.kind;
    if (!f.array) return SkipValue(c, kind, f.class_index, depth);
    uint64_t n;
    if (!c.VarLong(&n)) return false;
    // Every element must take at least one byte (a struct whose encoding is empty is rejected
    // as an array element), so the loop is bounded by the input size.
    if (n > c.remaining()) return false;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t before = c.pos();
      if (!SkipValue(c, kind, f.class_index, depth) || c.pos() == before) return false;
    }
    return true;
  }

  bool SkipStruct(Cursor& c, const Class& cls, int depth) const {
    if (depth >= kMaxValueDepth || !Spend(cls)) return false;
    for (const Field& f : cls.fields) {
      if (!SkipField(c, f, depth + 1)) return false;
    }
    return true;
  }

  // Reads the fields of `cls` in order, storing the slot-bound ones into `out` and skipping the
  // rest. `out` is not reset.
  bool ReadStruct(Cursor& c, const Class& cls, const std::vector<int8_t>& slots, Slots* out,
                  int depth) const {
    if (depth >= kMaxValueDepth || !Spend(cls)) return false;
    const size_t n = cls.fields.size();
    for (size_t i = 0; i < n; ++i) {
      const Field& f = cls.fields[i];
      const int8_t slot = slots[i];
      if (slot == kSkip) {
        if (!SkipField(c, f, depth + 1)) return false;
      } else if (slot >= kFirstStringSlot) {
        if (!String(c, &out->strs[slot - kFirstStringSlot])) return false;
      } else if (f.constant_pool || f.kind == Kind::kVarint) {
        if (!c.VarLong(&out->ints[slot])) return false;
      } else {  // kByte
        uint8_t b;
        if (!c.Byte(&b)) return false;
        out->ints[slot] = b;
      }
    }
    return true;
  }

  std::string_view Own(std::string s) const {
    owned_->push_back(std::move(s));
    return owned_->back();
  }

 private:
  // Structs of empty structs decode without consuming input, so byte bounds alone do not bound
  // the work on hostile metadata; every struct decode spends from a per-chunk budget instead.
  bool Spend(const Class& cls) const {
    *budget_ -= static_cast<int64_t>(cls.fields.size()) + 1;
    return *budget_ >= 0;
  }

  const ChunkMetadata& meta_;
  const absl::flat_hash_map<uint64_t, std::string_view>& string_pool_;
  std::deque<std::string>* owned_;
  int64_t* budget_;
};

// The metadata element tree, parsed without building it: we only collect "class" elements and
// their "field" children.
class MetadataParser {
 public:
  MetadataParser(const std::vector<std::string_view>& strings, ChunkMetadata* meta)
      : strings_(strings), meta_(meta) {}

  // Returns an error description, or empty on success.
  std::string ParseElement(Cursor& c, int depth, int32_t enclosing_class) {
    if (depth > kMaxElementDepth) return "metadata nested too deeply";
    uint64_t name_idx, attr_count;
    if (!c.VarLong(&name_idx) || !c.Count(&attr_count)) return "truncated metadata element";
    std::string_view name;
    if (!Str(name_idx, &name)) return "metadata string index out of range";
    // The attributes we use; others are ignored.
    std::string_view a_name, a_id, a_class, a_cp, a_dim;
    for (uint64_t i = 0; i < attr_count; ++i) {
      uint64_t k, v;
      std::string_view ks, vs;
      if (!c.VarLong(&k) || !c.VarLong(&v)) return "truncated metadata attribute";
      if (!Str(k, &ks) || !Str(v, &vs)) return "metadata string index out of range";
      if (ks == "name")
        a_name = vs;
      else if (ks == "id")
        a_id = vs;
      else if (ks == "class")
        a_class = vs;
      else if (ks == "constantPool")
        a_cp = vs;
      else if (ks == "dimension")
        a_dim = vs;
    }
    int32_t this_class = -1;
    if (name == "class") {
      Class cls;
      if (!ParseU64(a_id, &cls.id)) return "metadata class without a numeric id";
      if (meta_->class_by_id.contains(cls.id)) return "duplicate class id in metadata";
      cls.name = a_name;
      cls.kind = PrimitiveKind(a_name);
      this_class = static_cast<int32_t>(meta_->classes.size());
      meta_->class_by_id[cls.id] = static_cast<uint32_t>(this_class);
      meta_->classes.push_back(std::move(cls));
    } else if (name == "field" && enclosing_class >= 0) {
      Field f;
      f.name = a_name;
      if (!ParseU64(a_class, &f.type_id)) return "metadata field without a numeric class";
      f.constant_pool = a_cp == "true";
      if (!a_dim.empty() && a_dim != "0") {
        if (a_dim != "1") return "metadata field with unsupported array dimension";
        f.array = true;
      }
      meta_->classes[enclosing_class].fields.push_back(f);
    }
    uint64_t child_count;
    if (!c.Count(&child_count)) return "truncated metadata element";
    for (uint64_t i = 0; i < child_count; ++i) {
      std::string err = ParseElement(c, depth + 1, this_class);
      if (!err.empty()) return err;
    }
    return {};
  }

 private:
  bool Str(uint64_t idx, std::string_view* out) const {
    if (idx >= strings_.size()) return false;
    *out = strings_[idx];
    return true;
  }

  const std::vector<std::string_view>& strings_;
  ChunkMetadata* meta_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// JfrChunk

JfrChunk::JfrChunk() = default;
JfrChunk::~JfrChunk() = default;

void JfrChunk::Clear() {
  header_ = {};
  stack_trace_index_.clear();
  stack_traces_.clear();
  frames_.clear();
  methods_.clear();
  classes_.clear();
  symbols_.clear();
  thread_states_.clear();
  threads_.clear();
  strings_.clear();
}

const JfrStackTrace* JfrChunk::FindStackTrace(uint64_t id) const {
  auto it = stack_trace_index_.find(id);
  return it == stack_trace_index_.end() ? nullptr : &stack_traces_[it->second];
}

const JfrMethod* JfrChunk::FindMethod(uint64_t id) const {
  auto it = methods_.find(id);
  return it == methods_.end() ? nullptr : &it->second;
}

bool JfrChunk::FindClassName(uint64_t class_id, uint64_t* name_symbol) const {
  auto it = classes_.find(class_id);
  if (it == classes_.end()) return false;
  *name_symbol = it->second;
  return true;
}

bool JfrChunk::FindSymbol(uint64_t id, std::string_view* out) const {
  auto it = symbols_.find(id);
  if (it == symbols_.end()) return false;
  *out = it->second;
  return true;
}

std::string_view JfrChunk::ThreadStateName(uint64_t id) const {
  auto it = thread_states_.find(id);
  return it == thread_states_.end() ? std::string_view() : it->second;
}

std::string_view JfrChunk::ThreadName(uint64_t id) const {
  auto it = threads_.find(id);
  return it == threads_.end() ? std::string_view() : it->second;
}

// ---------------------------------------------------------------------------------------------
// JfrReader

JfrReader::JfrReader(std::string_view data) : data_(data) {}
JfrReader::~JfrReader() = default;

bool JfrReader::Fail(uint64_t pos, std::string_view what) {
  status_ = absl::InvalidArgumentError(
      ToAbsl(StrCat("invalid JFR: chunk ", chunk_count_ - 1, " (at offset ", chunk_.offset_,
                    "): ", what, " at byte ", pos)));
  in_chunk_ = false;
  return false;
}

bool JfrReader::NextChunk() {
  if (!status_.ok()) return false;
  in_chunk_ = false;
  if (next_chunk_ >= data_.size()) {
    if (chunk_count_ == 0) {
      status_ = absl::InvalidArgumentError("invalid JFR: empty input");
    }
    return false;
  }
  chunk_.Clear();
  chunk_.index_ = chunk_count_++;
  chunk_.offset_ = next_chunk_;
  meta_ = std::make_unique<ChunkMetadata>();
  budget_ = 0;  // set once the chunk size is known
  if (!ParseHeader(next_chunk_) || !ParseMetadata() || !ParseConstantPools()) return false;
  event_pos_ = chunk_.offset_ + kHeaderSize;
  chunk_end_ = chunk_.offset_ + chunk_.header_.size;
  next_chunk_ = chunk_end_;
  in_chunk_ = true;
  return true;
}

bool JfrReader::ParseHeader(uint64_t pos) {
  if (data_.size() - pos < kHeaderSize) return Fail(pos, "truncated chunk header");
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data()) + pos;
  if (std::memcmp(p, "FLR\0", 4) != 0) return Fail(pos, "bad magic (not a JFR chunk)");
  JfrChunkHeader& h = chunk_.header_;
  h.major = static_cast<uint16_t>(ReadBE(p + 4, 2));
  h.minor = static_cast<uint16_t>(ReadBE(p + 6, 2));
  h.size = ReadBE(p + 8, 8);
  h.constant_pool_offset = ReadBE(p + 16, 8);
  h.metadata_offset = ReadBE(p + 24, 8);
  h.start_nanos = static_cast<int64_t>(ReadBE(p + 32, 8));
  h.duration_nanos = static_cast<int64_t>(ReadBE(p + 40, 8));
  h.start_ticks = static_cast<int64_t>(ReadBE(p + 48, 8));
  h.ticks_per_second = static_cast<int64_t>(ReadBE(p + 56, 8));
  h.features = static_cast<uint32_t>(ReadBE(p + 64, 4));
  // Version 1 (JDK 9/10) encodes integers differently; everything since JDK 11 is version 2.
  if (h.major != 2) return Fail(pos + 4, StrCat("unsupported JFR version ", h.major, ".", h.minor));
  if (h.size < kHeaderSize || h.size > data_.size() - pos) {
    return Fail(pos + 8, StrCat("chunk size ", h.size, " exceeds the ", data_.size() - pos,
                                " bytes left in the input"));
  }
  // Legitimate data visits about one struct field per byte; allow plenty more.
  budget_ = static_cast<int64_t>(8 * h.size + (1 << 20));
  if (h.metadata_offset < kHeaderSize || h.metadata_offset >= h.size) {
    return Fail(pos + 24, "metadata offset outside the chunk");
  }
  if (h.constant_pool_offset < kHeaderSize || h.constant_pool_offset >= h.size) {
    return Fail(pos + 16, "constant pool offset outside the chunk");
  }
  return true;
}

bool JfrReader::ParseMetadata() {
  const auto* base = reinterpret_cast<const uint8_t*>(data_.data());
  const uint64_t chunk_end = chunk_.offset_ + chunk_.header_.size;
  const uint64_t start = chunk_.offset_ + chunk_.header_.metadata_offset;
  Cursor c(base, start, chunk_end);
  uint64_t size, type, ignored;
  if (!c.VarLong(&size) || size == 0 || size > chunk_end - start) {
    return Fail(start, "bad metadata event size");
  }
  c = Cursor(base, c.pos(), start + size);
  if (!c.VarLong(&type) || type != kMetadataEventType) {
    return Fail(start, "metadata offset does not point at a metadata event");
  }
  // start time, duration, metadata id
  if (!c.VarLong(&ignored) || !c.VarLong(&ignored) || !c.VarLong(&ignored)) {
    return Fail(c.pos(), "truncated metadata event");
  }
  ChunkMetadata& meta = *meta_;
  uint64_t n;
  if (!c.Count(&n)) return Fail(c.pos(), "bad metadata string count");
  std::vector<std::string_view> strings(n);
  static const absl::flat_hash_map<uint64_t, std::string_view> kNoPool;
  ValueDecoder dec(meta, kNoPool, &owned_strings_, &budget_);
  for (uint64_t i = 0; i < n; ++i) {
    if (!dec.String(c, &strings[i])) return Fail(c.pos(), "bad metadata string");
  }
  MetadataParser mp(strings, &meta);
  std::string err = mp.ParseElement(c, 0, -1);
  if (!err.empty()) return Fail(c.pos(), err);

  // Resolve field types.
  for (Class& cls : meta.classes) {
    for (Field& f : cls.fields) {
      if (f.constant_pool) {
        f.kind = Kind::kVarint;
        continue;
      }
      auto it = meta.class_by_id.find(f.type_id);
      if (it == meta.class_by_id.end()) {
        return Fail(start,
                    StrCat("field ", cls.name, ".", f.name, " has unknown type ", f.type_id));
      }
      const Class& type = meta.classes[it->second];
      f.kind = type.kind;
      if (f.kind == Kind::kStruct) f.class_index = static_cast<int32_t>(it->second);
    }
  }
  // Bind the event and pool types we decode.
  meta.pool_slots.resize(meta.classes.size());
  for (size_t i = 0; i < meta.classes.size(); ++i) {
    const Class& cls = meta.classes[i];
    const auto idx = static_cast<int32_t>(i);
    for (const EventName& e : kEventNames) {
      if (cls.name == e.name) {
        meta.plan_by_type[cls.id] = static_cast<uint32_t>(meta.plans.size());
        meta.plans.push_back(
            {e.type, static_cast<uint32_t>(i), BindSlots(cls, IntSlotForEventField)});
      }
    }
    bool pool = true;
    if (cls.name == "jdk.types.StackTrace")
      meta.stack_trace_class = idx;
    else if (cls.name == "jdk.types.StackFrame")
      meta.stack_frame_class = idx;
    else if (cls.name == "jdk.types.Method")
      meta.method_class = idx;
    else if (cls.name == "java.lang.Class")
      meta.class_class = idx;
    else if (cls.name == "jdk.types.Symbol")
      meta.symbol_class = idx;
    else if (cls.name == "jdk.types.ThreadState")
      meta.thread_state_class = idx;
    else if (cls.name == "java.lang.Thread")
      meta.thread_class = idx;
    else if (cls.name == "java.lang.String")
      meta.string_class = idx;
    else
      pool = false;
    if (pool) meta.pool_slots[i] = BindSlots(cls, IntSlotForPoolField);
  }
  return true;
}

bool JfrReader::ParseConstantPools() {
  // Checkpoints form a chain from the one the header points at, through relative offsets, until
  // a zero delta. A malformed chain could loop: remember where we have been.
  absl::flat_hash_set<uint64_t> visited;
  const uint64_t chunk_start = chunk_.offset_;
  const uint64_t chunk_end = chunk_start + chunk_.header_.size;
  uint64_t pos = chunk_start + chunk_.header_.constant_pool_offset;
  for (;;) {
    if (!visited.insert(pos).second) return Fail(pos, "constant pool chain loops");
    int64_t delta = 0;
    if (!ParseCheckpoint(pos, &delta)) return false;
    if (delta == 0) break;
    const int64_t next = static_cast<int64_t>(pos) + delta;
    if (next < static_cast<int64_t>(chunk_start + kHeaderSize) ||
        next >= static_cast<int64_t>(chunk_end)) {
      return Fail(pos, "constant pool delta points outside the chunk");
    }
    pos = static_cast<uint64_t>(next);
  }
  return true;
}

bool JfrReader::ParseCheckpoint(uint64_t pos, int64_t* delta) {
  const auto* base = reinterpret_cast<const uint8_t*>(data_.data());
  const uint64_t chunk_end = chunk_.offset_ + chunk_.header_.size;
  Cursor c(base, pos, chunk_end);
  uint64_t size, type, ignored, d;
  if (!c.VarLong(&size) || size == 0 || size > chunk_end - pos) {
    return Fail(pos, "bad checkpoint event size");
  }
  c = Cursor(base, c.pos(), pos + size);
  if (!c.VarLong(&type) || type != kCheckpointEventType) {
    return Fail(pos, "constant pool offset does not point at a checkpoint event");
  }
  uint8_t flags;
  if (!c.VarLong(&ignored) || !c.VarLong(&ignored) || !c.VarLong(&d) || !c.Byte(&flags)) {
    return Fail(c.pos(), "truncated checkpoint event");
  }
  *delta = static_cast<int64_t>(d);
  uint64_t pool_count;
  if (!c.Count(&pool_count)) return Fail(c.pos(), "bad constant pool count");
  for (uint64_t i = 0; i < pool_count; ++i) {
    uint64_t type_id;
    if (!c.VarLong(&type_id)) return Fail(c.pos(), "truncated constant pool");
    if (!ParsePool(c, type_id)) return false;
  }
  return true;
}

bool JfrReader::ParsePool(Cursor& c, uint64_t type_id) {
  const ChunkMetadata& meta = *meta_;
  auto cit = meta.class_by_id.find(type_id);
  if (cit == meta.class_by_id.end()) {
    return Fail(c.pos(), StrCat("constant pool of unknown type ", type_id));
  }
  const uint32_t ci = cit->second;
  const Class& cls = meta.classes[ci];
  const std::vector<int8_t>& slots = meta.pool_slots[ci];
  ValueDecoder dec(meta, chunk_.strings_, &owned_strings_, &budget_);
  uint64_t count;
  if (!c.Count(&count)) {
    return Fail(c.pos(), StrCat("constant pool count of ", cls.name, " exceeds the event size"));
  }
  const auto idx = static_cast<int32_t>(ci);
  Slots s;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id;
    if (!c.VarLong(&id)) return Fail(c.pos(), "truncated constant pool");
    const uint64_t value_pos = c.pos();
    bool ok = true;
    if (cls.kind != Kind::kStruct) {
      // Pools of a primitive type; only strings occur in practice.
      if (cls.kind == Kind::kString) {
        std::string_view str;
        ok = dec.String(c, &str);
        if (ok && idx == meta.string_class) chunk_.strings_[id] = str;
      } else {
        ok = dec.SkipValue(c, cls.kind, -1, 0);
      }
    } else if (idx == meta.stack_trace_class) {
      // StackTrace { boolean truncated; StackFrame[] frames; }: the frames array is read here,
      // the scalars through the slot binding.
      JfrStackTrace st;
      st.first_frame = static_cast<uint32_t>(chunk_.frames_.size());
      s.Reset();
      for (size_t fi = 0; ok && fi < cls.fields.size(); ++fi) {
        const Field& f = cls.fields[fi];
        if (f.array && f.kind == Kind::kStruct && !f.constant_pool &&
            f.class_index == meta.stack_frame_class && f.name == "frames") {
          const Class& frame_cls = meta.classes[f.class_index];
          const std::vector<int8_t>& fslots = meta.pool_slots[f.class_index];
          uint64_t n;
          ok = c.Count(&n);
          for (uint64_t k = 0; ok && k < n; ++k) {
            Slots fs;
            fs.Reset();
            const uint64_t before = c.pos();
            ok = dec.ReadStruct(c, frame_cls, fslots, &fs, 1) && c.pos() > before;
            chunk_.frames_.push_back({fs.ints[kMethod], static_cast<int32_t>(fs.ints[kLineNumber]),
                                      static_cast<int32_t>(fs.ints[kBytecodeIndex]),
                                      fs.ints[kType]});
          }
        } else if (slots[fi] == kTruncated && !f.array) {
          uint8_t b = 0;
          if (f.kind == Kind::kByte) {
            ok = c.Byte(&b);
          } else {
            uint64_t v = 0;
            ok = c.VarLong(&v);
            b = v != 0;
          }
          st.truncated = b != 0;
        } else {
          ok = dec.SkipField(c, f, 1);
        }
      }
      if (!ok) {
        return Fail(c.pos(),
                    StrCat("bad stack trace ", id, " in constant pool at byte ", value_pos));
      }
      const uint64_t frames = chunk_.frames_.size() - st.first_frame;
      if (frames > UINT32_MAX) return Fail(c.pos(), "too many frames");
      st.frame_count = static_cast<uint32_t>(frames);
      auto [it, inserted] = chunk_.stack_trace_index_.try_emplace(
          id, static_cast<uint32_t>(chunk_.stack_traces_.size()));
      if (inserted) {
        chunk_.stack_traces_.push_back(st);
      } else {
        chunk_.stack_traces_[it->second] = st;  // a later constant replaces an earlier one
      }
    } else if (!slots.empty()) {
      s.Reset();
      ok = dec.ReadStruct(c, cls, slots, &s, 0);
      if (ok) {
        if (idx == meta.method_class) {
          chunk_.methods_[id] = JfrMethod{s.ints[kType], s.ints[kNameRef]};
        } else if (idx == meta.class_class) {
          chunk_.classes_[id] = s.ints[kNameRef];
        } else if (idx == meta.symbol_class) {
          chunk_.symbols_[id] = s.strs[kString - kFirstStringSlot];
        } else if (idx == meta.thread_state_class) {
          chunk_.thread_states_[id] = s.strs[kName - kFirstStringSlot];
        } else if (idx == meta.thread_class) {
          std::string_view name = s.strs[kJavaName - kFirstStringSlot];
          if (name.empty()) name = s.strs[kOsName - kFirstStringSlot];
          chunk_.threads_[id] = name;
        }
      }
    } else {
      ok = dec.SkipStruct(c, cls, 0);
    }
    if (!ok) {
      return Fail(value_pos, StrCat("bad constant ", id, " in the pool of ", cls.name));
    }
  }
  return true;
}

bool JfrReader::NextEvent(JfrEvent* ev) {
  if (!in_chunk_) return false;
  const auto* base = reinterpret_cast<const uint8_t*>(data_.data());
  const ChunkMetadata& meta = *meta_;
  ValueDecoder dec(meta, chunk_.strings_, &owned_strings_, &budget_);
  Slots s;
  while (event_pos_ < chunk_end_) {
    const uint64_t start = event_pos_;
    Cursor c(base, start, chunk_end_);
    uint64_t size, type;
    if (!c.VarLong(&size) || size == 0 || size > chunk_end_ - start) {
      return Fail(start, "bad event size");
    }
    if (!c.VarLong(&type)) return Fail(start, "truncated event header");
    if (c.pos() > start + size) return Fail(start, "event size smaller than its header");
    event_pos_ = start + size;
    auto it = meta.plan_by_type.find(type);
    if (it == meta.plan_by_type.end()) continue;
    const EventPlan& plan = meta.plans[it->second];
    Cursor ec(base, c.pos(), start + size);
    s.Reset();
    if (!dec.ReadStruct(ec, meta.classes[plan.class_index], plan.slots, &s, 0)) {
      return Fail(ec.pos(), StrCat("truncated or malformed ", meta.classes[plan.class_index].name,
                                   " event starting at byte ", start));
    }
    ev->type = plan.type;
    ev->start_time = s.ints[kStartTime];
    ev->duration = s.ints[kDuration];
    ev->thread = s.ints[kThread];
    ev->stack_trace = s.ints[kStackTrace];
    ev->state = s.ints[kState];
    ev->context_id = s.ints[kContextId];
    ev->tlab_size = s.ints[kTlabSize];
    ev->allocation_size = s.ints[kAllocationSize];
    ev->samples = s.ints[kSamples];
    ev->weight = s.ints[kWeight];
    ev->setting_name = s.strs[kName - kFirstStringSlot];
    ev->setting_value = s.strs[kValue - kFirstStringSlot];
    return true;
  }
  in_chunk_ = false;
  return false;
}

}  // namespace embers::jfr
