#include "base/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "base/strings.h"

namespace embers::metrics {
namespace {

// Misuse of the registry is a bug at the call site, found by the first test that touches it;
// aborting with the metric's name is more useful than limping on with a half-registered family.
[[noreturn]] void Die(std::string_view msg) {
  std::fprintf(stderr, "embers::metrics: %.*s\n", static_cast<int>(msg.size()), msg.data());
  std::abort();
}

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Label names starting with "__" are reserved for Prometheus' own use.
bool IsLabelName(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void CheckMetricName(std::string_view name) {
  if (!IsMetricName(name)) Die(StrCat("invalid metric name \"", name, "\""));
}

void CheckLabelName(std::string_view metric, std::string_view label) {
  if (!IsLabelName(label)) {
    Die(StrCat("metric ", metric, ": invalid label name \"", label, "\""));
  }
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (quotes are literal there).
std::string EscapeHelp(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Appends `name="value"` to `out`, with a comma first unless `out` is empty.
void AppendLabel(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out += ',';
  out.append(name).append("=\"").append(EscapeLabelValue(value)).append("\"");
}

// Appends one sample line: name{labels} value
void AppendLine(std::string& out, std::string_view name, std::string_view suffix,
                std::string_view labels, double value) {
  out.append(name).append(suffix);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(FormatValue(value)).append("\n");
}

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integral values below 2^63 convert to int64 exactly; print them plainly ("1000000", not the
  // shortest form "1e+06") because people read these too.
  if (v == std::trunc(v) && std::fabs(v) < 9.223372036854775808e18) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // Shortest round-trip form.
  return std::string(buf, end);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// ---- Histogram and buckets ----

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Bucket i counts v <= bounds[i]; NaN compares false with everything and goes to +Inf, as in
  // the Go client.
  size_t i = bounds_->size();
  if (!std::isnan(v)) {
    i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

uint64_t Histogram::Count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) n += counts_[i].load(std::memory_order_relaxed);
  return n;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    Die(StrCat("ExponentialBuckets(", start, ", ", factor, ", ", count,
               "): want start > 0, factor > 1, count >= 1"));
  }
  std::vector<double> b;
  b.reserve(count);
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  if (!(width > 0) || count < 1) {
    Die(StrCat("LinearBuckets(", start, ", ", width, ", ", count, "): want width > 0, count >= 1"));
  }
  std::vector<double> b;
  b.reserve(count);
  for (int i = 0; i < count; ++i) b.push_back(start + i * width);
  return b;
}

// ---- Families ----

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

template <typename T>
Family<T>::Family(std::string name, std::string help, MetricType type,
                  std::vector<std::string> label_names, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
      bounds_(std::move(bounds)) {
  // An unlabelled metric has exactly one child; create it now so it is exported from the start.
  if (FamilyBase::label_names().empty()) WithLabels(std::span<const std::string_view>());
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string> values) {
  std::vector<std::string_view> views(values.begin(), values.end());
  return WithLabels(std::span<const std::string_view>(views));
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string_view> values) {
  if (values.size() != label_names().size()) {
    Die(StrCat("metric ", name(), ": got ", values.size(), " label values for label names [",
               Join(label_names(), ","), "]"));
  }
  absl::MutexLock lock(&mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<T> child;
  if constexpr (std::is_same_v<T, Histogram>) {
    child = std::make_unique<T>(&bounds_);
  } else {
    child = std::make_unique<T>();
  }
  T& ref = *child;
  children_.emplace(std::vector<std::string>(values.begin(), values.end()), std::move(child));
  return ref;
}

template <typename T>
bool Family<T>::Remove(std::span<const std::string_view> values) {
  absl::MutexLock lock(&mu_);
  auto it = children_.find(values);
  if (it == children_.end()) return false;
  children_.erase(it);
  return true;
}

template <typename T>
size_t Family<T>::size() const {
  absl::MutexLock lock(&mu_);
  return children_.size();
}

template <typename T>
void Family<T>::Collect(Writer& w) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [values, child] : children_) {
    Writer::Series s;
    for (size_t i = 0; i < values.size(); ++i) AppendLabel(s.labels, label_names()[i], values[i]);
    if constexpr (std::is_same_v<T, Histogram>) {
      // Buckets are stored per bucket and exported cumulatively, ending with le="+Inf" == _count.
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= bounds_.size(); ++b) {
        cumulative += child->BucketCount(b);
        std::string labels = s.labels;
        AppendLabel(labels, "le",
                    b < bounds_.size() ? FormatValue(bounds_[b]) : std::string("+Inf"));
        AppendLine(s.text, name(), "_bucket", labels, static_cast<double>(cumulative));
      }
      AppendLine(s.text, name(), "_sum", s.labels, child->Sum());
      AppendLine(s.text, name(), "_count", s.labels, static_cast<double>(cumulative));
    } else {
      AppendLine(s.text, name(), "", s.labels, child->Value());
    }
    w.AddSeries(type(), name(), help(), std::move(s));
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Writer ----

void Writer::Counter(std::string_view name, std::string_view help, double value,
                     absl::Span<const Label> labels) {
  AddSample(MetricType::kCounter, name, help, value, labels);
}

void Writer::Gauge(std::string_view name, std::string_view help, double value,
                   absl::Span<const Label> labels) {
  AddSample(MetricType::kGauge, name, help, value, labels);
}

void Writer::AddSample(MetricType type, std::string_view name, std::string_view help, double value,
                       absl::Span<const Label> labels) {
  CheckMetricName(name);
  Series s;
  for (const auto& [label, v] : labels) {
    CheckLabelName(name, label);
    AppendLabel(s.labels, label, v);
  }
  AppendLine(s.text, name, "", s.labels, value);
  AddSeries(type, name, help, std::move(s));
}

void Writer::AddSeries(MetricType type, std::string_view name, std::string_view help,
                       Series series) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), FamilyOut{type, std::string(help), {}}).first;
  } else if (it->second.type != type) {
    Die(StrCat("metric ", name, " reported as both ", TypeName(it->second.type), " and ",
               TypeName(type)));
  }
  it->second.series.push_back(std::move(series));
}

std::string Writer::Finish() {
  std::string out;
  for (auto& [name, family] : families_) {
    std::sort(family.series.begin(), family.series.end(),
              [](const Series& a, const Series& b) { return a.labels < b.labels; });
    out += StrCat("# HELP ", name, " ", EscapeHelp(family.help), "\n");
    out += StrCat("# TYPE ", name, " ", TypeName(family.type), "\n");
    for (const Series& s : family.series) out += s.text;
  }
  return out;
}

// ---- Registry ----

Registry::~Registry() = default;

Registry& Registry::Global() {
  // Never destroyed, so metrics can be touched from static destructors and detached threads.
  static Registry* const global = new Registry();
  return *global;
}

FamilyBase& Registry::GetOrCreate(std::string_view name, std::string_view help, MetricType type,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    FamilyBase& f = *it->second;
    if (f.type() != type) {
      Die(StrCat("metric ", name, " registered as ", TypeName(f.type()), ", requested as ",
                 TypeName(type)));
    }
    if (f.label_names() != label_names) {
      Die(StrCat("metric ", name, " registered with labels [", Join(f.label_names(), ","),
                 "], requested with [", Join(label_names, ","), "]"));
    }
    if (type == MetricType::kHistogram && static_cast<HistogramFamily&>(f).bounds() != bounds) {
      Die(StrCat("metric ", name, " registered with different bucket bounds"));
    }
    return f;
  }

  CheckMetricName(name);
  for (size_t i = 0; i < label_names.size(); ++i) {
    CheckLabelName(name, label_names[i]);
    for (size_t j = 0; j < i; ++j) {
      if (label_names[i] == label_names[j]) {
        Die(StrCat("metric ", name, ": duplicate label name \"", label_names[i], "\""));
      }
    }
    if (type == MetricType::kHistogram && label_names[i] == "le") {
      Die(StrCat("histogram ", name, ": label name \"le\" is reserved"));
    }
  }

  std::unique_ptr<FamilyBase> family;
  std::string n(name), h(help);
  switch (type) {
    case MetricType::kCounter:
      family = std::make_unique<CounterFamily>(n, h, type, std::move(label_names),
                                               std::vector<double>());
      break;
    case MetricType::kGauge:
      family =
          std::make_unique<GaugeFamily>(n, h, type, std::move(label_names), std::vector<double>());
      break;
    case MetricType::kHistogram:
      family =
          std::make_unique<HistogramFamily>(n, h, type, std::move(label_names), std::move(bounds));
      break;
  }
  FamilyBase& ref = *family;
  families_.emplace(std::move(n), std::move(family));
  return ref;
}

CounterFamily& Registry::Counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  return static_cast<CounterFamily&>(
      GetOrCreate(name, help, MetricType::kCounter, std::move(label_names), {}));
}

GaugeFamily& Registry::Gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  return static_cast<GaugeFamily&>(
      GetOrCreate(name, help, MetricType::kGauge, std::move(label_names), {}));
}

HistogramFamily& Registry::Histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      Die(StrCat("histogram ", name, ": bucket bounds must be finite and strictly increasing"));
    }
  }
  return static_cast<HistogramFamily&>(
      GetOrCreate(name, help, MetricType::kHistogram, std::move(label_names), std::move(bounds)));
}

void Registry::AddCollector(std::function<void(Writer&)> collect) {
  auto shared = std::make_shared<std::function<void(Writer&)>>(std::move(collect));
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(shared));
}

void Registry::AddGaugeFunc(std::string_view name, std::string_view help,
                            std::function<double()> fn) {
  CheckMetricName(name);
  {
    absl::MutexLock lock(&mu_);
    if (families_.contains(name)) Die(StrCat("metric ", name, " is already registered"));
  }
  AddCollector([name = std::string(name), help = std::string(help), fn = std::move(fn)](Writer& w) {
    w.Gauge(name, help, fn());
  });
}

void Registry::AddCounterFunc(std::string_view name, std::string_view help,
                              std::function<double()> fn) {
  CheckMetricName(name);
  {
    absl::MutexLock lock(&mu_);
    if (families_.contains(name)) Die(StrCat("metric ", name, " is already registered"));
  }
  AddCollector([name = std::string(name), help = std::string(help), fn = std::move(fn)](Writer& w) {
    w.Counter(name, help, fn());
  });
}

std::string Registry::Render() const {
  // Copy the lists and release the lock before collecting, so a collector may itself use the
  // registry and a slow scrape does not block registration.
  std::vector<const FamilyBase*> families;
  std::vector<std::shared_ptr<std::function<void(Writer&)>>> collectors;
  {
    absl::MutexLock lock(&mu_);
    families.reserve(families_.size());
    for (const auto& [name, f] : families_) families.push_back(f.get());
    collectors = collectors_;
  }
  Writer w;
  for (const FamilyBase* f : families) f->Collect(w);
  for (const auto& c : collectors) (*c)(w);
  return w.Finish();
}

}  // namespace embers::metrics
