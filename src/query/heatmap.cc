#include "query/heatmap.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>
#include <numeric>
#include <tuple>
#include <utility>

#include "model/profile_id.h"
#include "model/trace_id.h"
#include "pprof/split.h"

namespace embers::query {
namespace {

// The first grid point start + k * step at or after ts (>= start). In unsigned arithmetic, which
// wraps instead of overflowing for absurd ranges (no limit keeps start and end near each other).
int64_t RoundUpToGrid(int64_t ts, int64_t start, int64_t step) {
  const uint64_t offset = static_cast<uint64_t>(ts) - static_cast<uint64_t>(start);
  const uint64_t width = static_cast<uint64_t>(step);
  const uint64_t k = offset / width + (offset % width != 0 ? 1 : 0);
  return static_cast<int64_t>(static_cast<uint64_t>(start) + k * width);
}

// Whether `a` is a better exemplar than `b`: the larger value, then the earlier, then the
// smaller span and profile id (a total order, so merge order cannot change the choice).
bool BetterExemplar(const HeatmapPoint& a, const HeatmapPoint& b) {
  if (a.value != b.value) return a.value > b.value;
  return std::tie(a.timestamp_ms, a.span_id, a.profile_id) <
         std::tie(b.timestamp_ms, b.span_id, b.profile_id);
}

// The labels two merged points share (both sorted by name, then value); null if either has none.
std::shared_ptr<const GroupLabels> SharedLabels(const std::shared_ptr<const GroupLabels>& a,
                                                const std::shared_ptr<const GroupLabels>& b) {
  if (a == nullptr || b == nullptr) return nullptr;
  if (a == b || *a == *b) return a;
  auto both = std::make_shared<GroupLabels>();
  std::set_intersection(a->begin(), a->end(), b->begin(), b->end(), std::back_inserter(*both));
  return both;
}

void SetLabels(const GroupLabels& labels,
               google::protobuf::RepeatedPtrField<types::v1::LabelPair>* out) {
  for (const auto& [name, value] : labels) {
    types::v1::LabelPair* l = out->Add();
    l->set_name(name);
    l->set_value(value);
  }
}

// One (slot, bucket) cell of a series.
struct Cell {
  int64_t count = 0;
  const HeatmapPoint* best = nullptr;
};

void RenderSeries(const HeatmapGrid& grid, const std::vector<HeatmapBucket>& buckets,
                  const GroupLabels& labels, const std::vector<HeatmapPoint>& points,
                  types::v1::HeatmapSeries* out) {
  SetLabels(labels, out->mutable_labels());
  std::map<int64_t, std::vector<Cell>> slots;  // ordered: slots come out sorted by time
  for (const HeatmapPoint& p : points) {
    const int bucket = HeatmapBucketOf(p.value, buckets);
    if (bucket < 0) continue;  // cannot happen: the buckets start at the smallest value
    std::vector<Cell>& cells =
        slots
            .try_emplace(HeatmapSlotOf(p.timestamp_ms, grid.start_ms, grid.end_ms, grid.step_ms),
                         buckets.size())
            .first->second;
    Cell& cell = cells[static_cast<size_t>(bucket)];
    ++cell.count;
    if (cell.best == nullptr || BetterExemplar(p, *cell.best)) cell.best = &p;
  }
  for (const auto& [t, cells] : slots) {
    types::v1::HeatmapSlot* slot = out->add_slots();
    slot->set_timestamp(t);
    for (size_t b = 0; b < buckets.size(); ++b) {
      slot->add_y_min(static_cast<double>(buckets[b].min));
      slot->add_counts(static_cast<int32_t>(
          std::min<int64_t>(cells[b].count, std::numeric_limits<int32_t>::max())));
    }
    if (!grid.exemplars) continue;
    // One exemplar per non-empty cell, in bucket order. A point without an id names nothing a
    // client could open, so it has none.
    for (const Cell& cell : cells) {
      const HeatmapPoint* p = cell.best;
      if (p == nullptr || (grid.spans ? p->span_id == 0 : p->profile_id.empty())) continue;
      types::v1::Exemplar* e = slot->add_exemplars();
      e->set_timestamp(p->timestamp_ms);
      e->set_value(p->value);
      // As upstream, a span exemplar names the span (SelectMergeSpanProfile selects it), an
      // individual one the profile (profile_id_selector).
      if (grid.spans) {
        e->set_span_id(pprof::FormatSpanId(p->span_id));
        if (!p->trace_id.empty()) e->set_trace_id(model::FormatTraceId(p->trace_id));
      } else {
        e->set_profile_id(model::FormatProfileId(p->profile_id));
      }
      if (p->labels != nullptr) SetLabels(*p->labels, e->mutable_labels());
    }
  }
}

// Upstream's label-set order: pair by pair, then the shorter first.
bool LabelsLess(const types::v1::HeatmapSeries& a, const types::v1::HeatmapSeries& b) {
  return std::lexicographical_compare(
      a.labels().begin(), a.labels().end(), b.labels().begin(), b.labels().end(),
      [](const types::v1::LabelPair& x, const types::v1::LabelPair& y) {
        return std::tie(x.name(), x.value()) < std::tie(y.name(), y.value());
      });
}

}  // namespace

std::vector<HeatmapBucket> HeatmapBuckets(int64_t min_value, int64_t max_value, int count) {
  std::vector<HeatmapBucket> buckets(static_cast<size_t>(std::max(count, 1)));
  // In double, as upstream: the edges are min + trunc(i * range / count).
  const double size = (static_cast<double>(max_value) - static_cast<double>(min_value)) /
                      static_cast<double>(buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    buckets[i].min = min_value + static_cast<int64_t>(static_cast<double>(i) * size);
    buckets[i].max = min_value + static_cast<int64_t>(static_cast<double>(i + 1) * size);
  }
  buckets.back().max = max_value;  // the largest value belongs to the last bucket
  return buckets;
}

int HeatmapBucketOf(int64_t value, const std::vector<HeatmapBucket>& buckets) {
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (value >= buckets[i].min && value < buckets[i].max) return static_cast<int>(i);
  }
  if (!buckets.empty() && value >= buckets.back().min) return static_cast<int>(buckets.size()) - 1;
  return -1;
}

int64_t HeatmapSlotOf(int64_t ts, int64_t start, int64_t end, int64_t step) {
  // Everything before start is in the first slot. Upstream clamps to the end rounded up: a range
  // that is not whole steps ends with a partial slot at the next grid point, like SelectSeries'
  // last point; clamping ts to end first gives the same.
  if (ts <= start) return start;
  return RoundUpToGrid(std::min(ts, end), start, step);
}

void MergeHeatmapPoints(bool spans, std::vector<HeatmapPoint>* points) {
  auto key = [spans](const HeatmapPoint& p) {
    return spans ? std::make_tuple(p.timestamp_ms, p.span_id, model::ProfileId{})
                 : std::make_tuple(p.timestamp_ms, uint64_t{0}, p.profile_id);
  };
  std::sort(points->begin(), points->end(),
            [&key](const HeatmapPoint& a, const HeatmapPoint& b) { return key(a) < key(b); });
  auto same = [&key, spans](const HeatmapPoint& a, const HeatmapPoint& b) {
    const bool has_id = spans ? a.span_id != 0 : !a.profile_id.empty();
    return has_id && key(a) == key(b);
  };
  size_t out = 0;
  for (size_t i = 0; i < points->size(); ++i) {
    HeatmapPoint& p = (*points)[i];
    if (out > 0 && same((*points)[out - 1], p)) {
      HeatmapPoint& into = (*points)[out - 1];
      into.value += p.value;
      into.labels = SharedLabels(into.labels, p.labels);
      // A span's samples may come from several profiles: keep the smallest id, deterministic.
      into.profile_id = std::min(into.profile_id, p.profile_id);
      // Its trace is one; a sample stored without it takes none away.
      if (into.trace_id.empty()) into.trace_id = p.trace_id;
      continue;
    }
    if (out != i) (*points)[out] = std::move(p);
    ++out;
  }
  points->resize(out);
}

void RenderHeatmap(const HeatmapGrid& grid,
                   std::map<GroupLabels, std::vector<HeatmapPoint>>* groups,
                   google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries>* out) {
  // One value axis for every series: the smallest and largest merged value of all of them. The
  // largest starts at 0, as upstream (values are non-negative totals).
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = 0;
  bool any = false;
  for (auto& [labels, points] : *groups) {
    MergeHeatmapPoints(grid.spans, &points);
    for (const HeatmapPoint& p : points) {
      lo = std::min(lo, p.value);
      hi = std::max(hi, p.value);
      any = true;
    }
  }
  if (!any) return;
  if (lo == hi) {  // one value: a range of 1 so the buckets have a width
    if (hi < std::numeric_limits<int64_t>::max()) {
      ++hi;
    } else {
      --lo;
    }
  }
  const std::vector<HeatmapBucket> buckets = HeatmapBuckets(lo, hi);
  for (const auto& [labels, points] : *groups) {
    if (!points.empty()) RenderSeries(grid, buckets, labels, points, out->Add());
  }
}

void TopHeatmapSeries(int64_t limit,
                      google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries>* series) {
  if (limit <= 0 || series->size() <= limit) return;
  std::vector<int64_t> total(static_cast<size_t>(series->size()), 0);
  for (int i = 0; i < series->size(); ++i) {
    for (const types::v1::HeatmapSlot& slot : (*series)[i].slots()) {
      for (int32_t c : slot.counts()) total[static_cast<size_t>(i)] += c;
    }
  }
  std::vector<int> order(static_cast<size_t>(series->size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const int64_t ta = total[static_cast<size_t>(a)], tb = total[static_cast<size_t>(b)];
    if (ta != tb) return ta > tb;
    return LabelsLess((*series)[a], (*series)[b]);
  });
  std::vector<types::v1::HeatmapSeries> kept;
  kept.reserve(static_cast<size_t>(limit));
  for (int64_t k = 0; k < limit; ++k)
    kept.push_back(std::move((*series)[order[static_cast<size_t>(k)]]));
  series->Clear();
  for (types::v1::HeatmapSeries& s : kept) *series->Add() = std::move(s);
}

}  // namespace embers::query
