#include "block/profile_chunk.h"

#include <algorithm>

#include "base/strings.h"

namespace embers::block {
namespace {

// Timestamps are stored as differences; wrapping arithmetic keeps absurd inputs defined.
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

}  // namespace

void EncodeChunkEntry(const ChunkEntry& e, std::string* out) {
  PutVarint64(out, e.first_row);
  PutVarint64(out, e.row_count);
  PutVarint64(out, e.first_series);
  PutVarint64(out, e.last_series);
  PutZigzag64(out, e.min_time_ms);
  PutZigzag64(out, e.max_time_ms);
  PutVarint64(out, e.offset);
  PutVarint64(out, e.stored_length);
  PutVarint64(out, e.raw_length);
  out->push_back(static_cast<char>(e.codec));
  PutFixed32(out, e.crc);
}

bool DecodeChunkEntry(ByteReader* r, ChunkEntry* e) {
  return r->ReadVarint32(&e->first_row) && r->ReadVarint32(&e->row_count) &&
         r->ReadVarint32(&e->first_series) && r->ReadVarint32(&e->last_series) &&
         r->ReadZigzag64(&e->min_time_ms) && r->ReadZigzag64(&e->max_time_ms) &&
         r->ReadVarint64(&e->offset) && r->ReadVarint64(&e->stored_length) &&
         r->ReadVarint64(&e->raw_length) && r->ReadByte(&e->codec) && r->ReadFixed32(&e->crc);
}

void ChunkEncoder::Add(const ProfileRow& row) {
  if (row_count_ == 0) {
    first_series_ = last_series_ = row.series;
    min_time_ = max_time_ = row.timestamp_ms;
  }
  // Series as deltas from the previous row (the first from first_series); a timestamp as the
  // difference from the previous row of the same series, absolute at a series' first row.
  PutVarint64(&series_, row.series - last_series_);
  const bool same_series = row_count_ > 0 && row.series == last_series_;
  PutZigzag64(&times_, same_series ? WrappingSub(row.timestamp_ms, last_time_) : row.timestamp_ms);
  last_series_ = row.series;
  last_time_ = row.timestamp_ms;
  min_time_ = std::min(min_time_, row.timestamp_ms);
  max_time_ = std::max(max_time_, row.timestamp_ms);
  PutZigzag64(&durations_, row.duration_ns);
  PutVarint64(&sample_counts_, row.stack_ids.size());
  AppendEncoded(&stack_ids_, row.stack_ids.size() * 5, [&](char* p) {
    uint32_t previous = 0;
    for (uint32_t id : row.stack_ids) {
      p = EncodeVarint64(p, static_cast<uint32_t>(id - previous));
      previous = id;
    }
    return p;
  });
  AppendEncoded(&values_, row.values.size() * 10, [&](char* p) {
    for (int64_t v : row.values) p = EncodeVarint64(p, ZigzagEncode(v));
    return p;
  });
  PutVarint64(&span_counts_, row.span_ids.size());
  for (uint64_t span : row.span_ids) PutFixed64(&span_ids_, span);
  PutFixed64(&profile_ids_, row.profile_id.hi);
  PutFixed64(&profile_ids_, row.profile_id.lo);
  with_profile_ids_ |= !row.profile_id.empty();
  PutVarint64(&trace_counts_, row.trace_ids.size());
  for (model::TraceId trace : row.trace_ids) {
    PutFixed64(&trace_ids_, trace.hi);
    PutFixed64(&trace_ids_, trace.lo);
  }
  with_trace_ids_ |= !row.trace_ids.empty();
  ++row_count_;
}

void ChunkEncoder::Finish(std::string* raw, ChunkEntry* entry) {
  raw->clear();
  // The profile-id and trace-id columns are written only when some row of the chunk has such an
  // id; the flags byte says which are there.
  raw->push_back(static_cast<char>((with_profile_ids_ ? kChunkHasProfileIds : 0) |
                                   (with_trace_ids_ ? kChunkHasTraceIds : 0)));
  for (std::string* column :
       {&series_, &times_, &durations_, &sample_counts_, &stack_ids_, &values_, &span_counts_,
        &span_ids_, &profile_ids_, &trace_counts_, &trace_ids_}) {
    const bool optional_absent =
        (column == &profile_ids_ && !with_profile_ids_) ||
        ((column == &trace_counts_ || column == &trace_ids_) && !with_trace_ids_);
    if (!optional_absent) raw->append(*column);
    column->clear();
  }
  entry->row_count = row_count_;
  entry->first_series = first_series_;
  entry->last_series = last_series_;
  entry->min_time_ms = min_time_;
  entry->max_time_ms = max_time_;
  entry->raw_length = raw->size();
  row_count_ = 0;
  with_profile_ids_ = false;
  with_trace_ids_ = false;
}

absl::Status ChunkDecoder::Corrupt(std::string_view why) const {
  return absl::DataLossError(StrCat(what_, ": ", why));
}

absl::Status ChunkDecoder::Reset(std::string_view raw, uint32_t row_count, uint32_t first_series,
                                 std::string_view what, uint32_t format_version) {
  what_ = what;
  rows_left_ = 0;
  samples_left_ = spans_left_ = traces_left_ = 0;
  pending_samples_ = pending_spans_ = pending_traces_ = 0;
  series_rank_ = first_series;
  first_row_ = true;
  with_traces_ = false;
  trace_ids_ = nullptr;
  // Every row takes at least one byte in each of five columns.
  if (row_count > raw.size()) return Corrupt("row count");
  if (raw.empty() && row_count == 0) return absl::OkStatus();  // an empty decoder
  uint8_t flags = 0;
  if (format_version >= 2) {
    if (raw.empty()) return Corrupt("no column flags");
    flags = static_cast<uint8_t>(raw[0]);
    if ((flags & ~(kChunkHasProfileIds | kChunkHasTraceIds)) != 0) {
      return Corrupt(StrCat("unknown column flags ", flags));
    }
    raw.remove_prefix(1);
  }
  ByteReader r(raw);
  // The column of `count` varints starting at the reader's position.
  auto column = [&](uint64_t count, ByteReader* out) {
    const size_t begin = r.position();
    if (!r.SkipVarints(count)) return false;
    *out = ByteReader(raw.substr(begin, r.position() - begin));
    return true;
  };
  // A column of `row_count` counts, and their sum.
  auto counts = [&](ByteReader* out, uint64_t* sum) {
    const size_t begin = r.position();
    *sum = 0;
    for (uint32_t i = 0; i < row_count; ++i) {
      uint32_t n;
      if (!r.ReadVarint32(&n)) return false;
      *sum += n;
    }
    *out = ByteReader(raw.substr(begin, r.position() - begin));
    return true;
  };
  uint64_t samples = 0, spans = 0;
  if (!column(row_count, &series_)) return Corrupt("series column");
  if (!column(row_count, &times_)) return Corrupt("timestamp column");
  if (!column(row_count, &durations_)) return Corrupt("duration column");
  if (!counts(&sample_counts_, &samples)) return Corrupt("sample count column");
  if (samples > r.remaining()) return Corrupt("sample count");
  if (!column(samples, &stack_ids_)) return Corrupt("stack id column");
  if (!column(samples, &values_)) return Corrupt("value column");
  if (!counts(&span_counts_, &spans)) return Corrupt("span count column");
  span_ids_ = raw.data() + r.position();
  if (format_version < 2) {
    // The span column fills the rest, or the rest but an optional profile-id column.
    const uint64_t rest = r.remaining();
    if (rest == spans * 8 + uint64_t{row_count} * 16) flags |= kChunkHasProfileIds;
    if ((flags & kChunkHasProfileIds) == 0 && rest != spans * 8) return Corrupt("span column");
  } else if (spans > r.remaining() / 8 || !r.Skip(spans * 8)) {
    return Corrupt("span column");
  }
  profile_ids_ = (flags & kChunkHasProfileIds) != 0 ? span_ids_ + spans * 8 : nullptr;
  uint64_t traces = 0;
  if (format_version >= 2) {
    if (profile_ids_ != nullptr && !r.Skip(uint64_t{row_count} * 16)) {
      return Corrupt("profile id column");
    }
    with_traces_ = (flags & kChunkHasTraceIds) != 0;
    if (with_traces_) {
      if (!counts(&trace_counts_, &traces)) return Corrupt("trace count column");
      trace_ids_ = raw.data() + r.position();
      if (traces > r.remaining() / 16 || !r.Skip(traces * 16)) return Corrupt("trace column");
    }
    if (!r.empty()) return Corrupt("bytes after the last column");
  }
  rows_left_ = row_count;
  samples_left_ = samples;
  spans_left_ = spans;
  traces_left_ = traces;
  return absl::OkStatus();
}

absl::Status ChunkDecoder::SkipSamples() {
  if (!stack_ids_.SkipVarints(pending_samples_)) return Corrupt("stack id column");
  if (!values_.SkipVarints(pending_samples_)) return Corrupt("value column");
  span_ids_ += uint64_t{pending_spans_} * 8;
  trace_ids_ += uint64_t{pending_traces_} * 16;
  samples_left_ -= pending_samples_;
  spans_left_ -= pending_spans_;
  traces_left_ -= pending_traces_;
  pending_samples_ = pending_spans_ = pending_traces_ = 0;
  return absl::OkStatus();
}

absl::Status ChunkDecoder::NextRow(RowHeader* row) {
  if (rows_left_ == 0) return absl::OutOfRangeError(StrCat(what_, ": no rows left in the chunk"));
  if (pending_samples_ > 0 || pending_spans_ > 0 || pending_traces_ > 0) {
    if (absl::Status s = SkipSamples(); !s.ok()) return s;
  }
  uint32_t delta;
  if (!series_.ReadVarint32(&delta) || uint64_t{series_rank_} + delta > UINT32_MAX) {
    return Corrupt("series column");
  }
  const uint32_t series = series_rank_ + delta;
  int64_t time;
  if (!times_.ReadZigzag64(&time)) return Corrupt("timestamp column");
  if (!first_row_ && series == series_rank_) time = WrappingAdd(last_time_, time);
  first_row_ = false;
  series_rank_ = series;
  last_time_ = time;
  row->series = series;
  row->timestamp_ms = time;
  if (!durations_.ReadZigzag64(&row->duration_ns)) return Corrupt("duration column");
  if (!sample_counts_.ReadVarint32(&row->sample_count)) return Corrupt("sample count column");
  if (!span_counts_.ReadVarint32(&row->span_count) ||
      (row->span_count != 0 && row->span_count != row->sample_count)) {
    return Corrupt("span count column");
  }
  row->trace_count = 0;
  if (with_traces_ && (!trace_counts_.ReadVarint32(&row->trace_count) ||
                       (row->trace_count != 0 && row->trace_count != row->sample_count))) {
    return Corrupt("trace count column");
  }
  row->profile_id = {};
  if (profile_ids_ != nullptr) {
    row->profile_id.hi = DecodeFixed64(profile_ids_);
    row->profile_id.lo = DecodeFixed64(profile_ids_ + 8);
    profile_ids_ += 16;
  }
  pending_samples_ = row->sample_count;
  pending_spans_ = row->span_count;
  pending_traces_ = row->trace_count;
  --rows_left_;
  return absl::OkStatus();
}

absl::Status ChunkDecoder::ReadSamples(std::vector<uint32_t>* stack_ids,
                                       std::vector<int64_t>* values,
                                       std::vector<uint64_t>* span_ids,
                                       std::vector<model::TraceId>* trace_ids) {
  const uint32_t n = pending_samples_;
  const size_t base = stack_ids->size();
  stack_ids->resize(base + n);
  values->resize(values->size() + n);
  uint32_t* ids = stack_ids->data() + base;
  int64_t* vals = values->data() + values->size() - n;
  // Local copies of the column readers: stores through `vals` could otherwise alias a member's
  // position (int64_t and size_t may), forcing a reload per value.
  ByteReader id_column = stack_ids_, value_column = values_;
  uint32_t id = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t delta;
    if (!id_column.ReadVarint32(&delta)) return Corrupt("stack id column");
    id += delta;
    ids[i] = id;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!value_column.ReadZigzag64(&vals[i])) return Corrupt("value column");
  }
  stack_ids_ = id_column;
  values_ = value_column;
  const size_t span_base = span_ids->size();
  span_ids->resize(span_base + pending_spans_);
  for (uint32_t i = 0; i < pending_spans_; ++i) {
    (*span_ids)[span_base + i] = DecodeFixed64(span_ids_);
    span_ids_ += 8;
  }
  const size_t trace_base = trace_ids->size();
  trace_ids->resize(trace_base + pending_traces_);
  for (uint32_t i = 0; i < pending_traces_; ++i) {
    (*trace_ids)[trace_base + i] = {DecodeFixed64(trace_ids_), DecodeFixed64(trace_ids_ + 8)};
    trace_ids_ += 16;
  }
  samples_left_ -= pending_samples_;
  spans_left_ -= pending_spans_;
  traces_left_ -= pending_traces_;
  pending_samples_ = pending_spans_ = pending_traces_ = 0;
  return absl::OkStatus();
}

}  // namespace embers::block
