#include "ingest/jfr/jfr_labels.h"

#include "base/strings.h"
#include "base/varint.h"

namespace embers::jfr {

namespace {

// Protobuf wire-format fields over base/varint.h's ByteReader: keys, varints, length-delimited
// bytes, and skipping what this message does not use.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : in_(data) {}

  bool done() const { return in_.empty(); }

  bool Varint(uint64_t* v) { return in_.ReadVarint64(v); }

  // Reads a field key; *wire_type is 0..5.
  bool Key(uint32_t* field, uint32_t* wire_type) {
    uint64_t k;
    if (!Varint(&k) || (k >> 3) == 0 || (k >> 3) > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(k >> 3);
    *wire_type = static_cast<uint32_t>(k & 7);
    return true;
  }

  bool Bytes(std::string_view* out) { return in_.ReadLengthPrefixed(out); }

  bool Skip(uint32_t wire_type) {
    uint64_t v;
    std::string_view s;
    switch (wire_type) {
      case 0:
        return Varint(&v);
      case 1:
        return in_.ReadBytes(8, &s);
      case 2:
        return Bytes(&s);
      case 5:
        return in_.ReadBytes(4, &s);
      default:  // groups (3, 4) are not used by this message
        return false;
    }
  }

 private:
  ByteReader in_;
};

// A map entry { key = 1; value = 2; } whose key is an int64 varint. `value` receives the raw
// value field: the varint for an int64 value, the bytes for a string or message value.
bool ParseEntry(std::string_view entry, int64_t* key, uint64_t* int_value,
                std::string_view* bytes_value) {
  ProtoReader r(entry);
  *key = 0;
  *int_value = 0;
  *bytes_value = {};
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.Key(&field, &wt)) return false;
    uint64_t v;
    if (field == 1 && wt == 0) {
      if (!r.Varint(&v)) return false;
      *key = static_cast<int64_t>(v);
    } else if (field == 2 && wt == 0) {
      if (!r.Varint(int_value)) return false;
    } else if (field == 2 && wt == 2) {
      if (!r.Bytes(bytes_value)) return false;
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

bool ParseContext(std::string_view data, std::vector<std::pair<int64_t, int64_t>>* labels) {
  ProtoReader r(data);
  labels->clear();
  absl::flat_hash_map<int64_t, size_t> index;  // label name id -> position in *labels
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.Key(&field, &wt)) return false;
    if (field == 1 && wt == 2) {
      std::string_view entry, unused;
      int64_t k;
      uint64_t v;
      if (!r.Bytes(&entry) || !ParseEntry(entry, &k, &v, &unused)) return false;
      auto [it, inserted] = index.try_emplace(k, labels->size());
      if (inserted) {
        labels->emplace_back(k, static_cast<int64_t>(v));
      } else {
        (*labels)[it->second].second = static_cast<int64_t>(v);  // the last entry wins
      }
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<JfrLabelsSnapshot> ParseLabelsSnapshot(std::string_view data) {
  JfrLabelsSnapshot out;
  ProtoReader r(data);
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("invalid JFR labels snapshot: ", what)));
  };
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.Key(&field, &wt)) return bad("bad field key");
    if ((field == 1 || field == 2) && wt == 2) {
      std::string_view entry, bytes;
      int64_t key;
      uint64_t int_value;
      if (!r.Bytes(&entry) || !ParseEntry(entry, &key, &int_value, &bytes)) {
        return bad(field == 1 ? "bad contexts entry" : "bad strings entry");
      }
      if (field == 1) {
        std::vector<std::pair<int64_t, int64_t>> labels;
        if (!ParseContext(bytes, &labels)) return bad("bad Context message");
        out.contexts[key] = std::move(labels);
      } else {
        out.strings[key] = std::string(bytes);
      }
    } else if (!r.Skip(wt)) {
      return bad("truncated field");
    }
  }
  return out;
}

}  // namespace embers::jfr
