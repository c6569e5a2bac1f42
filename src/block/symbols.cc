#include "block/symbols.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"

namespace embers::block {
namespace {

constexpr size_t kMinStringChunk = 64 * 1024;

uint8_t MappingFlags(const pprof::Mapping& m) {
  return static_cast<uint8_t>((m.has_functions ? 1 : 0) | (m.has_filenames ? 2 : 0) |
                              (m.has_line_numbers ? 4 : 0) | (m.has_inline_frames ? 8 : 0));
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(StrCat("corrupt symbols section: ", what));
}

}  // namespace

size_t SymbolsBuilder::FunctionHash::operator()(const SymbolFunction& f) const {
  return absl::HashOf(f.name, f.system_name, f.filename, f.start_line);
}

size_t SymbolsBuilder::MappingHash::operator()(const SymbolMapping& m) const {
  return absl::HashOf(m.memory_start, m.memory_limit, m.file_offset, m.filename, m.build_id,
                      m.flags);
}

size_t SymbolsBuilder::LocationHash::operator()(const LocationKey& k) const {
  size_t h = absl::HashOf(k.mapping, k.address, k.lines.size());
  for (const SymbolLine& l : k.lines) h = absl::HashOf(h, l.function, l.line);
  return h;
}

bool SymbolsBuilder::LocationEq::operator()(const LocationKey& a, const LocationKey& b) const {
  if (a.mapping != b.mapping || a.address != b.address || a.lines.size() != b.lines.size()) {
    return false;
  }
  for (size_t i = 0; i < a.lines.size(); ++i) {
    if (a.lines[i].function != b.lines[i].function || a.lines[i].line != b.lines[i].line) {
      return false;
    }
  }
  return true;
}

SymbolsBuilder::SymbolsBuilder() : location_index_(0, LocationHash{this}, LocationEq{this}) {
  InternString("");
  node_parent_.push_back(0);  // the root
  node_location_.push_back(0);
}

std::string_view SymbolsBuilder::StoreString(std::string_view s) {
  if (s.empty()) return {};
  if (string_chunks_.empty() || chunk_used_ + s.size() > chunk_size_) {
    chunk_size_ = std::max(kMinStringChunk, s.size());
    string_chunks_.push_back(std::make_unique<char[]>(chunk_size_));
    chunk_used_ = 0;
  }
  char* p = string_chunks_.back().get() + chunk_used_;
  std::memcpy(p, s.data(), s.size());
  chunk_used_ += s.size();
  string_bytes_ += s.size();
  return {p, s.size()};
}

uint32_t SymbolsBuilder::InternString(std::string_view s) {
  auto it = string_index_.find(ToAbsl(s));
  if (it != string_index_.end()) return it->second;
  std::string_view stored = StoreString(s);
  uint32_t index = static_cast<uint32_t>(strings_.size());
  strings_.push_back(stored);
  string_index_.emplace(ToAbsl(stored), index);
  return index;
}

uint32_t SymbolsBuilder::InternMapping(const SymbolMapping& m) {
  auto [it, inserted] = mapping_index_.try_emplace(m, static_cast<uint32_t>(mappings_.size()));
  if (inserted) mappings_.push_back(m);
  return it->second;
}

uint32_t SymbolsBuilder::InternFunction(const SymbolFunction& f) {
  auto [it, inserted] = function_index_.try_emplace(f, static_cast<uint32_t>(functions_.size()));
  if (inserted) functions_.push_back(f);
  return it->second;
}

uint32_t SymbolsBuilder::InternLocation(int64_t mapping, uint64_t address,
                                        std::span<const SymbolLine> lines) {
  const LocationKey key{mapping, address, lines};
  auto it = location_index_.find(key);
  if (it != location_index_.end()) return *it;
  uint32_t index = static_cast<uint32_t>(locations_.size());
  SymbolLocation loc;
  loc.mapping = mapping;
  loc.address = address;
  loc.line_begin = static_cast<uint32_t>(lines_.size());
  loc.line_count = static_cast<uint32_t>(lines.size());
  lines_.insert(lines_.end(), lines.begin(), lines.end());
  locations_.push_back(loc);
  location_index_.insert(index);
  return index;
}

uint32_t SymbolsBuilder::AddNode(uint32_t parent, uint32_t location) {
  uint64_t key = (static_cast<uint64_t>(parent) << 32) | location;
  auto [it, inserted] = node_index_.try_emplace(key, static_cast<uint32_t>(node_parent_.size()));
  if (inserted) {
    node_parent_.push_back(parent);
    node_location_.push_back(location);
  }
  return it->second;
}

uint32_t SymbolsBuilder::AddStack(std::span<const uint32_t> locations_root_first) {
  uint32_t node = 0;
  for (uint32_t location : locations_root_first) node = AddNode(node, location);
  return node;
}

Symbols SymbolsBuilder::View() const {
  Symbols s;
  s.strings = strings_;
  s.mappings = mappings_;
  s.functions = functions_;
  s.locations = locations_;
  s.lines = lines_;
  s.node_parent = node_parent_;
  s.node_location = node_location_;
  return s;
}

uint32_t SymbolsBuilder::ProfileString(const pprof::Profile& profile, int64_t index) {
  // Out-of-range indexes read as "" (pprof::Profile::String), which is always string 0.
  if (index < 0 || static_cast<uint64_t>(index) >= profile.strings.size()) return 0;
  uint32_t& memo = string_memo_[index];
  if (memo == kUnset) memo = InternString(profile.strings[index]);
  return memo;
}

uint32_t SymbolsBuilder::ProfileFunction(const pprof::Profile& profile, int64_t index) {
  uint32_t& memo = function_memo_[index];
  if (memo != kUnset) return memo;
  const pprof::Function& f = profile.functions[index];
  // Named locals fix the order of interning (name, system name, file name), which decides the
  // string indexes.
  const uint32_t name = ProfileString(profile, f.name);
  const uint32_t system_name = ProfileString(profile, f.system_name);
  const uint32_t filename = ProfileString(profile, f.filename);
  memo = InternFunction(
      {.name = name, .system_name = system_name, .filename = filename, .start_line = f.start_line});
  return memo;
}

int64_t SymbolsBuilder::ProfileMapping(const pprof::Profile& profile, uint64_t mapping_id) {
  if (mapping_id == 0) return -1;
  const int64_t index = profile.MappingIndex(mapping_id);
  uint32_t& memo = mapping_memo_[index];
  if (memo != kUnset) return memo;
  const pprof::Mapping& m = profile.mappings[index];
  const uint32_t filename = ProfileString(profile, m.filename);
  const uint32_t build_id = ProfileString(profile, m.build_id);
  memo = InternMapping({.memory_start = m.memory_start,
                        .memory_limit = m.memory_limit,
                        .file_offset = m.file_offset,
                        .filename = filename,
                        .build_id = build_id,
                        .flags = MappingFlags(m)});
  return memo;
}

uint32_t SymbolsBuilder::ProfileLocation(const pprof::Profile& profile, uint64_t location_id) {
  const int64_t li = profile.LocationIndex(location_id);
  uint32_t& memo = location_memo_[li];
  if (memo != kUnset) return memo;
  const pprof::Location& loc = profile.locations[li];
  const int64_t mapping = ProfileMapping(profile, loc.mapping_id);
  lines_scratch_.clear();
  for (const pprof::Line& line : profile.LocationLines(loc)) {
    if (line.function_id == 0) continue;
    const uint32_t function = ProfileFunction(profile, profile.FunctionIndex(line.function_id));
    lines_scratch_.push_back({.function = function, .line = line.line});
  }
  memo = InternLocation(mapping, loc.address, lines_scratch_);
  return memo;
}

uint32_t SymbolsBuilder::AddStackReusingPrefix(const pprof::Profile& symbols,
                                               std::span<const uint64_t> ids) {
  // Callers are at the end of a leaf-first stack: compare from there.
  const size_t n = ids.size(), m = prefix_ids_.size();
  size_t common = 0;
  while (common < n && common < m && ids[n - 1 - common] == prefix_ids_[m - 1 - common]) ++common;
  prefix_nodes_.resize(common);
  uint32_t node = common == 0 ? 0 : prefix_nodes_[common - 1];
  for (size_t depth = common; depth < n; ++depth) {
    node = AddNode(node, ProfileLocation(symbols, ids[n - 1 - depth]));
    prefix_nodes_.push_back(node);
  }
  prefix_ids_ = ids;
  return node;
}

void SymbolsBuilder::AddSamples(const pprof::Profile& samples, const pprof::Profile& symbols,
                                const pprof::Profile* previous,
                                const std::vector<uint32_t>* previous_ids,
                                std::vector<uint32_t>* stack_ids) {
  // The sample sets of one split are subsequences of the source profile's samples in its order
  // (each keeps the samples with a positive value for its type), so a sample of this set that
  // recurs in the previous one is found a few positions after the last match. Only the few next
  // candidates are compared: a stack not among them is walked, which gives the same id.
  constexpr size_t kLookahead = 4;
  size_t next_previous = 0;
  const size_t previous_count = previous == nullptr ? 0 : previous->samples.size();
  stack_ids->resize(samples.samples.size());
  for (size_t i = 0; i < samples.samples.size(); ++i) {
    std::span<const uint64_t> ids = samples.SampleLocations(samples.samples[i]);
    bool found = false;
    for (size_t j = next_previous; j < previous_count && j < next_previous + kLookahead; ++j) {
      std::span<const uint64_t> other = previous->SampleLocations(previous->samples[j]);
      if (other.size() == ids.size() && std::equal(other.begin(), other.end(), ids.begin())) {
        (*stack_ids)[i] = (*previous_ids)[j];
        next_previous = j + 1;
        found = true;
        break;
      }
    }
    if (!found) (*stack_ids)[i] = AddStackReusingPrefix(symbols, ids);
  }
}

void SymbolsBuilder::AddProfiles(std::span<const pprof::Profile* const> samples,
                                 const pprof::Profile& symbols,
                                 std::span<std::vector<uint32_t>* const> stack_ids) {
  // Symbols are interned lazily (only those some sample uses), each once per call.
  string_memo_.assign(symbols.strings.size(), kUnset);
  function_memo_.assign(symbols.functions.size(), kUnset);
  mapping_memo_.assign(symbols.mappings.size(), kUnset);
  location_memo_.assign(symbols.locations.size(), kUnset);
  prefix_ids_ = {};
  for (size_t k = 0; k < samples.size(); ++k) {
    AddSamples(*samples[k], symbols, k == 0 ? nullptr : samples[k - 1],
               k == 0 ? nullptr : stack_ids[k - 1], stack_ids[k]);
  }
  prefix_ids_ = {};  // points into `samples`, which the caller may free now
}

size_t SymbolsBuilder::MemoryBytes() const {
  return string_chunks_.size() * chunk_size_ + strings_.capacity() * sizeof(std::string_view) +
         string_index_.capacity() * (sizeof(absl::string_view) + 8) +
         mappings_.capacity() * sizeof(SymbolMapping) * 2 +
         functions_.capacity() * sizeof(SymbolFunction) * 2 +
         locations_.capacity() * sizeof(SymbolLocation) + location_index_.capacity() * 5 +
         lines_.capacity() * sizeof(SymbolLine) + node_parent_.capacity() * 8 +
         node_index_.capacity() * 16 +
         (string_memo_.capacity() + function_memo_.capacity() + mapping_memo_.capacity() +
          location_memo_.capacity()) *
             sizeof(uint32_t);
}

std::string SymbolsBuilder::Encode() const {
  std::string out;
  out.reserve(string_bytes_ + strings_.size() * 2 + locations_.size() * 8 +
              node_parent_.size() * 4 + 64);
  PutVarint64(&out, strings_.size());
  for (std::string_view s : strings_) PutLengthPrefixed(&out, s);
  PutVarint64(&out, mappings_.size());
  for (const SymbolMapping& m : mappings_) {
    PutVarint64(&out, m.memory_start);
    PutVarint64(&out, m.memory_limit);
    PutVarint64(&out, m.file_offset);
    PutVarint64(&out, m.filename);
    PutVarint64(&out, m.build_id);
    out.push_back(static_cast<char>(m.flags));
  }
  PutVarint64(&out, functions_.size());
  for (const SymbolFunction& f : functions_) {
    PutVarint64(&out, f.name);
    PutVarint64(&out, f.system_name);
    PutVarint64(&out, f.filename);
    PutZigzag64(&out, f.start_line);
  }
  PutVarint64(&out, locations_.size());
  for (const SymbolLocation& l : locations_) {
    PutVarint64(&out, static_cast<uint64_t>(l.mapping + 1));
    PutVarint64(&out, l.address);
    PutVarint64(&out, l.line_count);
    for (uint32_t i = 0; i < l.line_count; ++i) {
      PutVarint64(&out, lines_[l.line_begin + i].function);
      PutZigzag64(&out, lines_[l.line_begin + i].line);
    }
  }
  PutVarint64(&out, node_parent_.size());
  for (size_t i = 0; i < node_parent_.size(); ++i) {
    PutVarint64(&out, i - node_parent_[i]);
    PutVarint64(&out, node_location_[i]);
  }
  return out;
}

absl::StatusOr<Symbols> Symbols::Decode(std::shared_ptr<const std::string> body) {
  Symbols s;
  s.backing = std::move(body);
  ByteReader r(*s.backing);
  uint32_t n = 0;
  // Every element takes at least one byte, so a count beyond the remaining bytes is corrupt
  // (and is rejected before it can size an allocation).
  auto read_count = [&](std::string_view what) -> absl::Status {
    if (!r.ReadVarint32(&n) || n > r.remaining()) return Corrupt(StrCat("bad ", what, " count"));
    return absl::OkStatus();
  };
  EMBERS_RETURN_IF_ERROR(read_count("string"));
  s.strings.resize(n);
  for (auto& str : s.strings) {
    if (!r.ReadLengthPrefixed(&str)) return Corrupt("truncated string table");
  }
  auto check_string = [&](uint32_t i) { return i < s.strings.size(); };
  EMBERS_RETURN_IF_ERROR(read_count("mapping"));
  s.mappings.resize(n);
  for (auto& m : s.mappings) {
    if (!r.ReadVarint64(&m.memory_start) || !r.ReadVarint64(&m.memory_limit) ||
        !r.ReadVarint64(&m.file_offset) || !r.ReadVarint32(&m.filename) ||
        !r.ReadVarint32(&m.build_id) || !r.ReadByte(&m.flags)) {
      return Corrupt("truncated mapping");
    }
    if (!check_string(m.filename) || !check_string(m.build_id)) return Corrupt("mapping string");
  }
  EMBERS_RETURN_IF_ERROR(read_count("function"));
  s.functions.resize(n);
  for (auto& f : s.functions) {
    if (!r.ReadVarint32(&f.name) || !r.ReadVarint32(&f.system_name) ||
        !r.ReadVarint32(&f.filename) || !r.ReadZigzag64(&f.start_line)) {
      return Corrupt("truncated function");
    }
    if (!check_string(f.name) || !check_string(f.system_name) || !check_string(f.filename)) {
      return Corrupt("function string");
    }
  }
  EMBERS_RETURN_IF_ERROR(read_count("location"));
  s.locations.resize(n);
  for (auto& l : s.locations) {
    uint64_t mapping_plus_one;
    if (!r.ReadVarint64(&mapping_plus_one) || !r.ReadVarint64(&l.address) ||
        !r.ReadVarint32(&l.line_count) || l.line_count > r.remaining()) {
      return Corrupt("truncated location");
    }
    if (mapping_plus_one > s.mappings.size()) return Corrupt("location mapping");
    l.mapping = static_cast<int64_t>(mapping_plus_one) - 1;
    l.line_begin = static_cast<uint32_t>(s.lines.size());
    for (uint32_t i = 0; i < l.line_count; ++i) {
      SymbolLine line;
      if (!r.ReadVarint32(&line.function) || !r.ReadZigzag64(&line.line)) {
        return Corrupt("truncated line");
      }
      if (line.function >= s.functions.size()) return Corrupt("line function");
      s.lines.push_back(line);
    }
  }
  EMBERS_RETURN_IF_ERROR(read_count("stack node"));
  if (n == 0) return Corrupt("no root node");
  s.node_parent.resize(n);
  s.node_location.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t distance, location;
    if (!r.ReadVarint32(&distance) || !r.ReadVarint32(&location)) {
      return Corrupt("truncated stack node");
    }
    if (i > 0 && (distance == 0 || distance > i)) return Corrupt("stack node parent");
    if (i > 0 && location >= s.locations.size()) return Corrupt("stack node location");
    s.node_parent[i] = i - distance;
    s.node_location[i] = location;
  }
  if (!r.empty()) return Corrupt("trailing bytes");
  return s;
}

size_t Symbols::MemoryBytes() const {
  return (backing == nullptr ? 0 : backing->capacity()) +
         strings.capacity() * sizeof(std::string_view) +
         mappings.capacity() * sizeof(SymbolMapping) +
         functions.capacity() * sizeof(SymbolFunction) +
         locations.capacity() * sizeof(SymbolLocation) + lines.capacity() * sizeof(SymbolLine) +
         (node_parent.capacity() + node_location.capacity()) * sizeof(uint32_t);
}

bool Symbols::Stack(uint32_t id, std::vector<uint32_t>* locations_leaf_first) const {
  if (id >= node_parent.size()) return false;
  while (id != 0) {
    locations_leaf_first->push_back(node_location[id]);
    id = node_parent[id];
  }
  return true;
}

}  // namespace embers::block
