#include "block/symbols_merger.h"

namespace embers::block {

SymbolsMerger::SymbolsMerger(const Symbols& from, SymbolsBuilder* to)
    : from_(from),
      to_(to),
      nodes_(from.node_parent.size(), kUnset),
      locations_(from.locations.size(), kUnset),
      functions_(from.functions.size(), kUnset),
      mappings_(from.mappings.size(), kUnset),
      strings_(from.strings.size(), kUnset) {
  if (!nodes_.empty()) nodes_[0] = 0;  // root to root
}

uint32_t SymbolsMerger::String(uint32_t s) {
  if (strings_[s] == kUnset) strings_[s] = to_->InternString(from_.strings[s]);
  return strings_[s];
}

uint32_t SymbolsMerger::Location(uint32_t location) {
  if (locations_[location] != kUnset) return locations_[location];
  const SymbolLocation& loc = from_.locations[location];
  int64_t mapping = -1;
  if (loc.mapping >= 0) {
    uint32_t& m = mappings_[static_cast<size_t>(loc.mapping)];
    if (m == kUnset) {
      SymbolMapping copy = from_.mappings[static_cast<size_t>(loc.mapping)];
      copy.filename = String(copy.filename);
      copy.build_id = String(copy.build_id);
      m = to_->InternMapping(copy);
    }
    mapping = m;
  }
  lines_.clear();
  for (const SymbolLine& line : from_.LocationLines(loc)) {
    uint32_t& f = functions_[line.function];
    if (f == kUnset) {
      SymbolFunction copy = from_.functions[line.function];
      copy.name = String(copy.name);
      copy.system_name = String(copy.system_name);
      copy.filename = String(copy.filename);
      f = to_->InternFunction(copy);
    }
    lines_.push_back(SymbolLine{.function = f, .line = line.line});
  }
  locations_[location] = to_->InternLocation(mapping, loc.address, lines_);
  return locations_[location];
}

uint32_t SymbolsMerger::Node(uint32_t node) {
  return MapStackNode(from_, node, kUnset, nodes_, path_, [this](uint32_t parent, uint32_t loc) {
    return to_->AddNode(parent, Location(loc));
  });
}

}  // namespace embers::block
