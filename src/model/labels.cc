#include "model/labels.h"

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t on the stack: no allocation per hash
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "base/strings.h"

namespace embers::model {

namespace {

// Rank of the two names that go first in the enforced order; everything else ranks 2.
int NameRank(std::string_view name) {
  // Cheap pre-check: both special names start with '_', most user labels do not.
  if (name.empty() || name[0] != '_') return 2;
  if (name == kLabelProfileType) return 0;
  if (name == kLabelServiceNamePrivate) return 1;
  return 2;
}

bool IsNameStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}
bool IsNameChar(unsigned char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Go's strconv.Quote, close enough for display: printable text passes through, quotes and
// backslashes are escaped, control characters and invalid UTF-8 bytes become escapes.
void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out.append("\\\"");
        continue;
      case '\\':
        out.append("\\\\");
        continue;
      case '\n':
        out.append("\\n");
        continue;
      case '\t':
        out.append("\\t");
        continue;
      case '\r':
        out.append("\\r");
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // Multi-byte: copy the whole sequence when valid, escape the lead byte otherwise.
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len != 0 && i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len - 1;
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
}

}  // namespace

bool LabelNameLess(std::string_view a, std::string_view b) {
  int ra = NameRank(a), rb = NameRank(b);
  if (ra != rb) return ra < rb;
  return a < b;
}

Labels::Labels(std::vector<Label> labels) : labels_(std::move(labels)) {
  std::stable_sort(labels_.begin(), labels_.end(),
                   [](const Label& a, const Label& b) { return LabelNameLess(a.name, b.name); });
  auto last = std::unique(labels_.begin(), labels_.end(),
                          [](const Label& a, const Label& b) { return a.name == b.name; });
  labels_.erase(last, labels_.end());
}

std::string_view Labels::Get(std::string_view name) const {
  for (const Label& l : labels_) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  for (const Label& l : labels_) {
    if (l.name == name) return true;
  }
  return false;
}

void Labels::Set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    Delete(name);
    return;
  }
  auto it =
      std::lower_bound(labels_.begin(), labels_.end(), name,
                       [](const Label& l, std::string_view n) { return LabelNameLess(l.name, n); });
  if (it != labels_.end() && it->name == name) {
    it->value.assign(value);
    return;
  }
  labels_.insert(it, Label{std::string(name), std::string(value)});
}

Labels Labels::With(std::string_view name, std::string_view value) const {
  Labels copy = *this;
  copy.Set(name, value);
  return copy;
}

void Labels::Delete(std::string_view name) {
  auto it = std::find_if(labels_.begin(), labels_.end(),
                         [name](const Label& l) { return l.name == name; });
  if (it != labels_.end()) labels_.erase(it);
}

uint64_t Labels::Fingerprint() const {
  // Streaming state avoids building the concatenation; the hash is the same as hashing the
  // concatenated bytes in one call, which is what Pyroscope does for short label sets.
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  static constexpr char kSep = '\xff';
  for (const Label& l : labels_) {
    XXH64_update(&state, l.name.data(), l.name.size());
    XXH64_update(&state, &kSep, 1);
    XXH64_update(&state, l.value.data(), l.value.size());
    XXH64_update(&state, &kSep, 1);
  }
  return XXH64_digest(&state);
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out.append(", ");
    out.append(labels_[i].name);
    out.push_back('=');
    AppendQuoted(out, labels_[i].value);
  }
  out.push_back('}');
  return out;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!IsNameChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status ValidateLabels(const std::vector<Label>& labels, const LabelLimits& limits) {
  if (labels.empty()) {
    return absl::InvalidArgumentError("error at least one label pair is required per profile");
  }
  // Sorted by name so duplicates are adjacent, as upstream does before checking.
  std::vector<const Label*> sorted;
  sorted.reserve(labels.size());
  for (const Label& l : labels) sorted.push_back(&l);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Label* a, const Label* b) { return a->name < b->name; });
  auto series = [&] { return Labels(labels).ToString(); };
  if (labels.size() > limits.max_names_per_series) {
    return absl::InvalidArgumentError(StrCat("profile series '", series(), "' has ", labels.size(),
                                             " label names; limit ", limits.max_names_per_series));
  }
  Labels canonical(labels);
  std::string_view metric_name = canonical.Get(kLabelProfileName);
  if (metric_name.empty() || !IsValidUtf8(metric_name)) {
    return absl::InvalidArgumentError(
        StrCat("invalid labels '", series(), "' with error: invalid metric name"));
  }
  if (canonical.Get(kLabelServiceName).empty()) {
    return absl::InvalidArgumentError(
        StrCat("invalid labels '", series(), "' with error: service name is not provided"));
  }
  std::string_view last;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Label& l = *sorted[i];
    if (l.name.size() > limits.max_name_length) {
      return absl::InvalidArgumentError(
          StrCat("profile with labels '", series(), "' has label name too long: '", l.name, "'"));
    }
    if (l.value.size() > limits.max_value_length) {
      return absl::InvalidArgumentError(
          StrCat("profile with labels '", series(), "' has label value too long: '", l.value, "'"));
    }
    if (limits.allow_utf8_names ? l.name.empty() || !IsValidUtf8(l.name)
                                : !IsValidLabelName(l.name)) {
      return absl::InvalidArgumentError(
          StrCat("invalid labels '", series(), "' with error: invalid label name '", l.name, "'"));
    }
    if (!IsValidUtf8(l.value)) {
      return absl::InvalidArgumentError(StrCat("invalid labels '", series(),
                                               "' with error: invalid label value for label '",
                                               l.name, "' (not UTF-8)"));
    }
    if (i > 0 && l.name == last) {
      return absl::InvalidArgumentError(
          StrCat("profile with labels '", series(), "' has duplicate label name: '", l.name, "'"));
    }
    last = l.name;
  }
  return absl::OkStatus();
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time: symbol names are almost always ASCII.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, 0xC0/0xC1 overlong lead, or > 0xF4
    }
    if (static_cast<size_t>(end - p) < len) return false;
    for (size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    p += len;
  }
  return true;
}

}  // namespace embers::model
