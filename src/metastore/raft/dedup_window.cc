#include "metastore/raft/dedup_window.h"

#include "base/strings.h"

namespace embers::metastore::raft {

const absl::Status* DedupWindow::Find(std::string_view request_id) const {
  auto it = results_.find(ToAbsl(request_id));
  return it == results_.end() ? nullptr : &it->second;
}

void DedupWindow::Remember(std::string_view request_id, const absl::Status& result) {
  if (capacity_ == 0) return;
  if (chunks_.empty() || last_chunk_shared_ || chunks_.back()->entries.size() == kChunk) {
    auto chunk = std::make_shared<Chunk>();
    chunk->entries.reserve(kChunk);
    chunks_.push_back(std::move(chunk));
    last_chunk_shared_ = false;
  }
  chunks_.back()->entries.push_back(Entry{std::string(request_id), result});
  results_.insert_or_assign(std::string(request_id), result);
  while (results_.size() > capacity_) {
    const Chunk& front = *chunks_.front();
    results_.erase(front.entries[front_offset_].request_id);
    if (++front_offset_ == front.entries.size() && chunks_.size() > 1) {
      chunks_.pop_front();  // freed here, or by the last capture holding it
      front_offset_ = 0;
    }
  }
}

DedupWindow::Captured DedupWindow::Capture() {
  Captured c;
  c.chunks_.assign(chunks_.begin(), chunks_.end());
  c.front_offset_ = front_offset_;
  c.size_ = results_.size();
  last_chunk_shared_ = true;
  return c;
}

void DedupWindow::Restore(const google::protobuf::RepeatedPtrField<v1::AppliedRequest>& requests) {
  chunks_.clear();
  front_offset_ = 0;
  last_chunk_shared_ = false;
  results_.clear();
  for (const v1::AppliedRequest& r : requests) {
    Remember(r.request_id(), absl::Status(static_cast<absl::StatusCode>(r.code()), r.message()));
  }
}

void DedupWindow::Captured::AppendTo(
    google::protobuf::RepeatedPtrField<v1::AppliedRequest>* out) const {
  out->Reserve(static_cast<int>(size_));
  size_t offset = front_offset_;
  for (const auto& chunk : chunks_) {
    for (size_t i = offset; i < chunk->entries.size(); ++i) {
      const Entry& e = chunk->entries[i];
      v1::AppliedRequest* r = out->Add();
      r->set_request_id(e.request_id);
      r->set_code(static_cast<int32_t>(e.result.code()));
      r->set_message(std::string(e.result.message()));
    }
    offset = 0;
  }
}

}  // namespace embers::metastore::raft
