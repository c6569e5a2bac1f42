#include "metastore/raft/snapshot_output.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
#include <utility>

namespace embers::metastore::raft {

namespace {

size_t RoundUpToPages(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (std::max<size_t>(bytes, 1) + page - 1) / page * page;
}

}  // namespace

SnapshotOutput::~SnapshotOutput() { Release(); }

SnapshotOutput::SnapshotOutput(SnapshotOutput&& other) noexcept
    : buffers_(std::exchange(other.buffers_, {})),
      current_(std::exchange(other.current_, 0)),
      size_(std::exchange(other.size_, 0)) {}

SnapshotOutput& SnapshotOutput::operator=(SnapshotOutput&& other) noexcept {
  if (this != &other) {
    Release();
    buffers_ = std::exchange(other.buffers_, {});
    current_ = std::exchange(other.current_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SnapshotOutput::Release() {
  for (const Buffer& b : buffers_) munmap(b.data, b.capacity);
  buffers_.clear();
  current_ = 0;
  size_ = 0;
}

void SnapshotOutput::Map(size_t bytes, bool populate) {
  const size_t capacity = RoundUpToPages(bytes);
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  buffers_.push_back({static_cast<char*>(p), capacity, 0});
}

void SnapshotOutput::Reserve(size_t bytes) { Map(bytes, /*populate=*/true); }

std::span<char> SnapshotOutput::Writable(size_t min_bytes) {
  while (current_ < buffers_.size() && buffers_[current_].used == buffers_[current_].capacity) {
    ++current_;
  }
  if (current_ == buffers_.size()) Map(std::max(min_bytes, kOverflowBufferBytes), false);
  Buffer& b = buffers_[current_];
  return {b.data + b.used, b.capacity - b.used};
}

void SnapshotOutput::Commit(size_t n) {
  Buffer& b = buffers_[current_];
  assert(n <= b.capacity - b.used);
  b.used += n;
  size_ += n;
}

void SnapshotOutput::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    std::span<char> to = Writable();
    const size_t n = std::min(to.size(), bytes.size());
    std::memcpy(to.data(), bytes.data(), n);
    Commit(n);
    bytes.remove_prefix(n);
  }
}

std::vector<std::string_view> SnapshotOutput::pieces() const {
  std::vector<std::string_view> out;
  for (const Buffer& b : buffers_) {
    if (b.used > 0) out.emplace_back(b.data, b.used);
  }
  return out;
}

size_t SnapshotOutput::capacity() const {
  size_t n = 0;
  for (const Buffer& b : buffers_) n += b.capacity;
  return n;
}

std::string SnapshotOutput::ToString() const {
  std::string out;
  out.reserve(size_);
  for (std::string_view p : pieces()) out.append(p);
  return out;
}

}  // namespace embers::metastore::raft
