// Series labels: the identity of a time series of profiles.
//
// A `Labels` value is a small vector of name/value pairs that is always kept in Pyroscope's
// "enforced" canonical order: `__profile_type__` first, `__service_name__` second, then by name.
// The order matters twice: it is the physical order of series in storage (so one service's data
// sits together), and the fingerprint is computed over the labels in that order, so it must be
// the same order Pyroscope uses for fingerprints to compare across systems (reference §9.3).
//
// Used by the pprof splitter (series of a push), the segment-writer (series index) and, later,
// queries. Names and values are owned strings: label sets outlive the request that created them.
#ifndef EMBERS_MODEL_LABELS_H_
#define EMBERS_MODEL_LABELS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace embers::model {

// Well-known label names (reference §9.1).
inline constexpr std::string_view kLabelProfileType = "__profile_type__";
inline constexpr std::string_view kLabelServiceNamePrivate = "__service_name__";
inline constexpr std::string_view kLabelProfileName = "__name__";
inline constexpr std::string_view kLabelType = "__type__";
inline constexpr std::string_view kLabelUnit = "__unit__";
inline constexpr std::string_view kLabelPeriodType = "__period_type__";
inline constexpr std::string_view kLabelPeriodUnit = "__period_unit__";
inline constexpr std::string_view kLabelDelta = "__delta__";
inline constexpr std::string_view kLabelOrder = "__order__";
inline constexpr std::string_view kLabelSessionId = "__session_id__";
inline constexpr std::string_view kLabelServiceName = "service_name";
inline constexpr std::string_view kServiceNameFallback = "unknown_service";

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label&, const Label&) = default;
};

// The canonical ("enforced") order: __profile_type__ < __service_name__ < everything else by
// byte-wise name. Exposed for code that sorts label pairs it does not keep in a Labels.
bool LabelNameLess(std::string_view a, std::string_view b);

class Labels {
 public:
  Labels() = default;
  // Sorts into canonical order. With duplicate names the first occurrence wins (like
  // Pyroscope's Labels.Unique after a stable sort); use Validate() to reject duplicates instead.
  explicit Labels(std::vector<Label> labels);
  Labels(std::initializer_list<Label> labels) : Labels(std::vector<Label>(labels)) {}

  // The value of `name`, or "" when absent (Pyroscope treats empty and missing alike).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Inserts or replaces, keeping canonical order. An empty value deletes the label, as
  // Pyroscope's LabelsBuilder.Set does.
  void Set(std::string_view name, std::string_view value);
  // Returns a copy with `name` set (see Set).
  Labels With(std::string_view name, std::string_view value) const;
  // Removes `name` if present.
  void Delete(std::string_view name);

  // xxHash64 (seed 0) over `name 0xFF value 0xFF` for each label in canonical order; the same
  // bytes Pyroscope's Labels.Hash feeds its hasher, so the fingerprints are identical.
  uint64_t Fingerprint() const;

  // PromQL form: {a="b", c="d"} with Go-style quoting of values.
  std::string ToString() const;

  const std::vector<Label>& labels() const { return labels_; }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }

  friend bool operator==(const Labels&, const Labels&) = default;

 private:
  std::vector<Label> labels_;  // canonical order, unique names
};

// Limits of Pyroscope's label validation (validation.max-label-* flags; defaults below).
struct LabelLimits {
  size_t max_name_length = 1024;
  size_t max_value_length = 2048;
  size_t max_names_per_series = 30;
  // Accept any non-empty UTF-8 label name, not only IsValidLabelName's charset: set per push when
  // the server allows it (-client-capability.allow-utf8-labelnames) and the client asked for it
  // (`allow-utf8-labelnames=true` in its Accept header), as upstream does.
  bool allow_utf8_names = false;
};

// Whether `name` is a valid label name: [a-zA-Z_.][a-zA-Z0-9_.]*. Pyroscope 2.x disabled label
// name sanitisation, so dots are accepted as they are (OpenTelemetry names such as
// `service.version`); other characters are still rejected.
bool IsValidLabelName(std::string_view name);

// Validates a series label set as Pyroscope's distributor does (ValidateLabels): at least one
// label, at most `max_names_per_series` names, name/value lengths, name charset, UTF-8 values,
// and no duplicate names. `labels` is a raw list (e.g. from a push request) so duplicates can be
// seen. `__name__` (the profile name) and `service_name` must be present and non-empty, as
// upstream requires. Errors are InvalidArgument and name the offending label.
absl::Status ValidateLabels(const std::vector<Label>& labels, const LabelLimits& limits = {});

// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace embers::model

#endif  // EMBERS_MODEL_LABELS_H_
