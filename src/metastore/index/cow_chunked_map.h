// CowChunkedMap: an ordered map whose copy costs one pointer per chunk of entries, for the
// blocks of a BlockIndex shard (index_internal.h) that snapshot captures share.
//
// Why: a snapshot capture (BlockIndex::Capture) runs on the Raft apply thread and keeps the
// shards it saw while they are serialised on another thread; the next write to such a shard
// copies it first. With one flat tree per shard that copy is O(blocks of the shard) on the apply
// thread — tens of ms at 2 M blocks, while Raft heartbeats wait. Here the entries live in sorted
// chunks of at most kMaxChunk entries, each behind a shared_ptr: copying the map copies the
// chunk list, and a write copies only the one chunk it changes.
//
// Sharing rule (generations): every chunk records the generation it was made in; a write names
// the current generation, and a chunk from an older one — possibly shared with a copy taken
// since — is replaced by a private copy before it changes. The owner bumps the generation
// whenever it hands out a copy. Chunks shared with a copy are therefore never written, so the
// copy may be read from another thread with no lock.
//
// Iteration is in key order; the chunking never shows. Not thread-safe otherwise (the owner's
// lock guards writes and same-generation reads).
#ifndef EMBERS_METASTORE_INDEX_COW_CHUNKED_MAP_H_
#define EMBERS_METASTORE_INDEX_COW_CHUNKED_MAP_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace embers::metastore {

template <typename Key, typename Value, size_t kMaxChunk = 512>
class CowChunkedMap {
  struct Chunk;
  struct Slot;

 public:
  using Entry = std::pair<Key, Value>;

  // Visits entries in key order.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = const Entry&;

    const_iterator() = default;
    reference operator*() const { return (*slots_)[slot_].chunk->entries[entry_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++entry_ == (*slots_)[slot_].chunk->entries.size()) {
        ++slot_;
        entry_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const {
      return slot_ == o.slot_ && entry_ == o.entry_;
    }

   private:
    friend class CowChunkedMap;
    const_iterator(const std::vector<Slot>* slots, size_t slot) : slots_(slots), slot_(slot) {}
    const std::vector<Slot>* slots_ = nullptr;
    size_t slot_ = 0;
    size_t entry_ = 0;
  };

  const_iterator begin() const { return const_iterator(&slots_, 0); }
  const_iterator end() const { return const_iterator(&slots_, slots_.size()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t chunk_count() const { return slots_.size(); }

  // The value of `key`, or null.
  const Value* Find(const Key& key) const {
    if (slots_.empty()) return nullptr;
    const std::vector<Entry>& entries = slots_[SlotFor(key)].chunk->entries;
    auto it = LowerBound(entries, key);
    return it != entries.end() && it->first == key ? &it->second : nullptr;
  }

  // Adds `key` unless present (then false, nothing changes). `generation`: see the header.
  bool Insert(const Key& key, Value value, uint64_t generation) {
    if (slots_.empty()) {
      auto chunk = std::make_shared<Chunk>();
      chunk->generation = generation;
      chunk->entries.reserve(kInitialCapacity);
      slots_.push_back(Slot{key, std::move(chunk)});
    }
    const size_t s = SlotFor(key);
    {
      const std::vector<Entry>& entries = slots_[s].chunk->entries;
      auto it = LowerBound(entries, key);
      if (it != entries.end() && it->first == key) return false;
    }
    std::vector<Entry>& entries = Writable(s, generation);
    auto at = entries.insert(LowerBound(entries, key), Entry(key, std::move(value)));
    const bool appended = at + 1 == entries.end() && s + 1 == slots_.size();
    slots_[s].first = entries.front().first;
    ++size_;
    if (entries.size() > kMaxChunk) {
      // Keys mostly arrive in order (ULIDs grow with time): an append leaves the full chunk
      // whole and starts a new one, so chunks stay full instead of half full.
      Split(s, appended ? kMaxChunk : entries.size() / 2, generation);
    }
    return true;
  }

  // Removes `key`; false when absent.
  bool Erase(const Key& key, uint64_t generation) {
    if (slots_.empty()) return false;
    const size_t s = SlotFor(key);
    {
      const std::vector<Entry>& entries = slots_[s].chunk->entries;
      auto it = LowerBound(entries, key);
      if (it == entries.end() || it->first != key) return false;
    }
    std::vector<Entry>& entries = Writable(s, generation);
    entries.erase(LowerBound(entries, key));
    --size_;
    if (entries.empty()) {
      slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(s));
      return true;
    }
    slots_[s].first = entries.front().first;
    if (entries.size() < kMaxChunk / 4) MergeSmall(s, generation);
    return true;
  }

 private:
  static constexpr size_t kInitialCapacity = 16;

  struct Chunk {
    uint64_t generation = 0;
    std::vector<Entry> entries;  // sorted by key, never empty while listed
  };
  struct Slot {
    Key first;  // the chunk's smallest key
    std::shared_ptr<Chunk> chunk;
  };

  static typename std::vector<Entry>::const_iterator LowerBound(const std::vector<Entry>& entries,
                                                                const Key& key) {
    return std::lower_bound(entries.begin(), entries.end(), key,
                            [](const Entry& e, const Key& k) { return e.first < k; });
  }
  static typename std::vector<Entry>::iterator LowerBound(std::vector<Entry>& entries,
                                                          const Key& key) {
    return std::lower_bound(entries.begin(), entries.end(), key,
                            [](const Entry& e, const Key& k) { return e.first < k; });
  }

  // The chunk that holds (or would hold) `key`: the last one starting at or before it.
  size_t SlotFor(const Key& key) const {
    auto it = std::upper_bound(slots_.begin(), slots_.end(), key,
                               [](const Key& k, const Slot& s) { return k < s.first; });
    return it == slots_.begin() ? 0 : static_cast<size_t>(it - slots_.begin()) - 1;
  }

  // The entries of slot `s`, copied first when the chunk belongs to an older generation.
  std::vector<Entry>& Writable(size_t s, uint64_t generation) {
    std::shared_ptr<Chunk>& chunk = slots_[s].chunk;
    if (chunk->generation != generation) {
      auto copy = std::make_shared<Chunk>();
      copy->generation = generation;
      copy->entries.reserve(std::min(kMaxChunk + 1, chunk->entries.size() + kInitialCapacity));
      copy->entries = chunk->entries;
      chunk = std::move(copy);
    }
    return chunk->entries;
  }

  // Moves the entries of slot `s` from position `at` on into a new chunk after it.
  void Split(size_t s, size_t at, uint64_t generation) {
    std::vector<Entry>& entries = slots_[s].chunk->entries;
    auto upper = std::make_shared<Chunk>();
    upper->generation = generation;
    upper->entries.reserve(std::max(kInitialCapacity, entries.size() - at));
    std::move(entries.begin() + static_cast<std::ptrdiff_t>(at), entries.end(),
              std::back_inserter(upper->entries));
    entries.resize(at);
    Key first = upper->entries.front().first;
    slots_.insert(slots_.begin() + static_cast<std::ptrdiff_t>(s) + 1,
                  Slot{std::move(first), std::move(upper)});
  }

  // Joins slot `s` (below a quarter full) with a neighbour when both fit in one chunk, so
  // removals cannot leave a long list of nearly empty chunks.
  void MergeSmall(size_t s, uint64_t generation) {
    auto fits = [&](size_t a) {
      return slots_[a].chunk->entries.size() + slots_[a + 1].chunk->entries.size() <=
             kMaxChunk * 3 / 4;
    };
    size_t lower;
    if (s + 1 < slots_.size() && fits(s)) {
      lower = s;
    } else if (s > 0 && fits(s - 1)) {
      lower = s - 1;
    } else {
      return;
    }
    std::vector<Entry>& into = Writable(lower, generation);
    const std::vector<Entry>& from = slots_[lower + 1].chunk->entries;
    into.insert(into.end(), from.begin(), from.end());
    slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(lower) + 1);
  }

  std::vector<Slot> slots_;  // ordered by `first`
  size_t size_ = 0;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_COW_CHUNKED_MAP_H_
