// Label selectors: the `{name="value", env=~"prod.*"}` part of a PromQL-style query.
//
// The query-frontend parses the selector of every query; the metastore index matches it against
// dataset label sets; query-backends match it against series. Matching follows Prometheus: a
// label that is absent has the value "", so `{x=""}` matches sets without `x` and `{x!="y"}`
// matches them too; regular expressions (RE2 syntax) are anchored at both ends and `.` matches a
// newline.
//
// The matcher works on a plain label accessor (a function from name to value, or a span of
// name/value pairs) so that it does not depend on how a caller stores labels.
#ifndef EMBERS_MODEL_SELECTOR_H_
#define EMBERS_MODEL_SELECTOR_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace embers::model {

enum class MatchType {
  kEqual,         // =
  kNotEqual,      // !=
  kRegexMatch,    // =~
  kRegexNoMatch,  // !~
};

// "=", "!=", "=~" or "!~".
std::string_view MatchTypeToString(MatchType type);

// One `name <op> "value"` term. Cheap to copy: the compiled regex is shared.
class LabelMatcher {
 public:
  // InvalidArgument when a regex does not compile.
  static absl::StatusOr<LabelMatcher> Create(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether a label whose value is `value` passes. Pass "" for an absent label.
  bool Matches(std::string_view value) const;
  // Matches("") precomputed: whether sets without this label pass.
  bool MatchesEmpty() const { return matches_empty_; }

  // `name="value"` with the value quoted and escaped so that Parse reads it back.
  std::string ToString() const;

 private:
  LabelMatcher() = default;

  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // only for the regex types
  bool matches_empty_ = false;
};

// A conjunction of label matchers; no matchers matches everything.
class Selector {
 public:
  // Looks a label up by name; nullopt when the set has no such label.
  using LabelLookup = std::function<std::optional<std::string_view>(std::string_view name)>;
  using LabelPairs = std::span<const std::pair<std::string_view, std::string_view>>;

  Selector() = default;
  explicit Selector(std::vector<LabelMatcher> matchers) : matchers_(std::move(matchers)) {}

  // Parses `{m1, m2, ...}` (a trailing comma is allowed), optionally preceded by a metric name
  // (`process_cpu{...}`, read as `__name__="process_cpu"`). Empty or blank text matches
  // everything. Label names are identifiers ([a-zA-Z_][a-zA-Z0-9_]*) or quoted strings; values
  // are "double-quoted", 'single-quoted' (Go escapes) or `raw`. Errors are InvalidArgument and
  // name the byte position.
  static absl::StatusOr<Selector> Parse(std::string_view text);

  const std::vector<LabelMatcher>& matchers() const { return matchers_; }
  bool MatchesAll() const { return matchers_.empty(); }

  bool Matches(const LabelLookup& lookup) const;
  // Pairs need not be sorted; with duplicate names the first one counts.
  bool Matches(LabelPairs labels) const;

  // Canonical text, `{a="1",b=~"x"}`; Parse(ToString()) gives an equal selector.
  std::string ToString() const;

 private:
  std::vector<LabelMatcher> matchers_;
};

}  // namespace embers::model

#endif  // EMBERS_MODEL_SELECTOR_H_
