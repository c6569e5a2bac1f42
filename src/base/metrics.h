// Metrics: counters, gauges and histograms exposed in the Prometheus text format (0.0.4).
//
// Every component registers its metrics here; src/server serves Registry::Global().Render() on
// GET /metrics. prometheus-cpp is not available, so this is our own small implementation, kept in
// one place (DESIGN §9).
//
// Usage: look a family up once, cache the child handle, then update it on the hot path:
//
//   static metrics::Counter& requests =
//       metrics::Registry::Global()
//           .Counter("embers_http_requests_total", "HTTP requests served.", {"method", "code"})
//           .WithLabels({"GET", "200"});
//   requests.Inc();
//
// Updates (Counter::Inc, Gauge::Set/Add, Histogram::Observe) are lock-free atomics. Looking a
// child up by label values (WithLabels) takes the family's mutex, so callers should cache the
// returned reference, which stays valid for the life of the registry (forever, for the global
// one): families are never removed, and children only by an explicit Family::Remove (see there).
//
// Misuse that can only be a programming error (an invalid metric or label name, asking for the
// same family with a different type, label names or buckets, the wrong number of label values)
// aborts with a message naming the metric.

#ifndef EMBERS_BASE_METRICS_H_
#define EMBERS_BASE_METRICS_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace embers::metrics {

// The Content-Type of Registry::Render()'s output, for the /metrics handler.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

// A monotonically increasing value (requests served, bytes written).
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `v`. Negative and NaN increments are ignored: a counter must never go down, and a bad
  // delta computed from data should not crash the server.
  void Inc(double v = 1) {
    if (v >= 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};  // fetch_add on atomic<double> is a lock-free CAS loop (C++20).
};

// A value that goes up and down (queue length, bytes in memory).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Sub(double v) { value_.fetch_sub(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Sub(1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (latencies, sizes).
class Histogram {
 public:
  // `bounds` (sorted, finite, without +Inf) is owned by the family and outlives the histogram.
  explicit Histogram(const std::vector<double>* bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double v);

  // Reads for tests and rendering. Count() is the sum of the bucket counts, so a concurrent
  // scrape always sees _count equal to the +Inf bucket.
  uint64_t Count() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Non-cumulative count of bucket i; i == bounds().size() is the +Inf bucket.
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_->size() + 1 entries.
  std::atomic<double> sum_{0};
};

// Bucket bounds. DefaultLatencyBuckets() is the Prometheus client default widened down to 1 ms:
// 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 (seconds).
std::vector<double> DefaultLatencyBuckets();
// `count` bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds: start, start+width, start+2*width, ... (width > 0).
std::vector<double> LinearBuckets(double start, double width, int count);

class Writer;

// What a family has in common whatever its type; the registry keeps these.
class FamilyBase {
 public:
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);

 private:
  friend class Registry;
  // Appends every child's series to `w`.
  virtual void Collect(Writer& w) const = 0;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// All children of one metric: one per combination of label values, created on first use.
// T is Counter, Gauge or Histogram.
template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> bounds);

  // Returns the child for these label values (in label-name order), creating it on first use.
  // The reference stays valid as long as the registry. Aborts if the number of values is wrong.
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  T& WithLabels(std::span<const std::string_view> values);
  T& WithLabels(std::span<const std::string> values);

  // Removes the child of these label values, if any (Prometheus then sees the series end). Only
  // for families whose users look the child up for each update and never keep the reference
  // past it, e.g. per-tenant series dropped when a tenant has been idle (distributor.cc). Returns
  // whether there was such a child.
  bool Remove(std::initializer_list<std::string_view> values) {
    return Remove(std::span<const std::string_view>(values.begin(), values.size()));
  }
  bool Remove(std::span<const std::string_view> values);
  // Children (series) in the family.
  size_t size() const;

  // Histogram bucket bounds; empty for counters and gauges.
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  // Orders label-value vectors; transparent so lookups by string_views need not copy.
  struct ValuesLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };

  void Collect(Writer& w) const override;

  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>, ValuesLess> children_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;
// Defined in metrics.cc; these are the only instantiations.
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// The sink that Render() fills. Collectors (Registry::AddCollector) use it to report values read
// at scrape time (process statistics, sizes of in-memory structures). Samples with the same
// metric name are grouped under one family, whichever collector or call they came from; a
// collector must not report the same name and labels twice.
class Writer {
 public:
  using Label = std::pair<std::string_view, std::string_view>;

  void Counter(std::string_view name, std::string_view help, double value,
               absl::Span<const Label> labels = {});
  void Gauge(std::string_view name, std::string_view help, double value,
             absl::Span<const Label> labels = {});

 private:
  friend class Registry;
  template <typename T>
  friend class Family;

  struct Series {
    std::string labels;  // Rendered `a="x",b="y"` (no braces); also the sort key.
    std::string text;    // Complete lines, each ending in '\n'.
  };
  struct FamilyOut {
    MetricType type;
    std::string help;
    std::vector<Series> series;
  };

  Writer() = default;
  void AddSample(MetricType type, std::string_view name, std::string_view help, double value,
                 absl::Span<const Label> labels);
  // Adds one pre-rendered series to family `name`, checking the type matches earlier ones.
  void AddSeries(MetricType type, std::string_view name, std::string_view help, Series series);
  std::string Finish();

  std::map<std::string, FamilyOut, std::less<>> families_;
};

// A set of metric families. Registry::Global() is the process's registry (the one piece of global
// mutable state in the project, together with the log level); tests construct their own.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  static Registry& Global();

  // Returns the family called `name`, creating it on first call. Later calls must agree on the
  // type, label names (and bucket bounds); `help` of the first call wins. A family without label
  // names has its single child created at once, so it is exported (as 0) from the start;
  // a family with labels exports nothing until its first WithLabels().
  CounterFamily& Counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& Gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  // `bounds` must be strictly increasing and finite; a trailing +Inf is dropped (it is implicit).
  HistogramFamily& Histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names,
                             std::vector<double> bounds = DefaultLatencyBuckets());

  // Registers `collect`, called on every Render() (without the registry's lock held, from the
  // scraping thread) to report values that are cheaper to read at scrape time than to keep up to
  // date. Must be thread-safe and must outlive the registry.
  void AddCollector(std::function<void(Writer&)> collect);
  // Shorthands for a collector reporting one unlabelled value.
  void AddGaugeFunc(std::string_view name, std::string_view help, std::function<double()> fn);
  void AddCounterFunc(std::string_view name, std::string_view help, std::function<double()> fn);

  // The whole registry in the text exposition format: families sorted by name, series sorted by
  // labels, each family preceded by # HELP and # TYPE.
  std::string Render() const;

 private:
  FamilyBase& GetOrCreate(std::string_view name, std::string_view help, MetricType type,
                          std::vector<std::string> label_names, std::vector<double> bounds);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<std::function<void(Writer&)>>> collectors_ ABSL_GUARDED_BY(mu_);
};

// Formatting helpers, exposed for tests and for other text formats.

// A sample value as Prometheus parses it: integral values without exponent ("3", "-2"), others
// in shortest round-trip form ("0.25", "1e-09"), and "+Inf", "-Inf", "NaN".
std::string FormatValue(double v);
// Escapes a label value for use between double quotes: \ → \\, " → \", newline → \n.
std::string EscapeLabelValue(std::string_view v);

}  // namespace embers::metrics

#endif  // EMBERS_BASE_METRICS_H_
