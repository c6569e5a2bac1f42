#include "ingest/legacy/app_name.h"

#include "absl/status/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

constexpr std::string_view kNameTag = "__name__";

absl::Status Invalid(size_t pos, std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(StrCat("name: ", message, " at position ", pos)));
}

// Trims like Go's strings.TrimSpace (ASCII whitespace) and reports how much was cut on the left,
// so error positions still point into the original text.
std::string_view Trim(std::string_view s, size_t* left = nullptr) {
  std::string_view t = StripWhitespace(s);
  if (left != nullptr) *left = t.empty() ? 0 : static_cast<size_t>(t.data() - s.data());
  return t;
}

absl::Status ValidateAppName(std::string_view name, size_t pos) {
  if (name.empty()) return Invalid(pos, "application name is required");
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsAppNameChar(name[i])) {
      return Invalid(pos + i, StrCat("character '", name[i] >= 0x20 ? name[i] : '?',
                                     "' is not allowed in the application name"));
    }
  }
  return absl::OkStatus();
}

void SetTag(AppName& out, std::string_view key, std::string_view value) {
  for (auto& [k, v] : out.tags) {
    if (k == key) {
      v.assign(value);
      return;
    }
  }
  out.tags.emplace_back(std::string(key), std::string(value));
}

}  // namespace

bool IsTagKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

bool IsAppNameChar(char c) { return IsTagKeyChar(c) || c == '-' || c == '/'; }

const std::string* AppName::FindTag(std::string_view key) const {
  for (const auto& [k, v] : tags) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<AppName> ParseAppName(std::string_view text) {
  AppName out;
  const size_t brace = text.find('{');
  size_t left = 0;
  std::string_view name = Trim(text.substr(0, brace), &left);
  absl::Status status = ValidateAppName(name, left);
  if (!status.ok()) return status;
  out.name.assign(name);
  if (brace == std::string_view::npos) return out;

  // Tags: key '=' value (',' key '=' value)* '}'. Values may hold any character but ',' and '}'.
  size_t pos = brace + 1;
  while (true) {
    const size_t key_start = pos;
    while (pos < text.size() && text[pos] != '=' && text[pos] != '}') ++pos;
    if (pos >= text.size()) return Invalid(pos, "missing '}'");
    std::string_view key = Trim(text.substr(key_start, pos - key_start), &left);
    if (text[pos] == '}') {
      if (!key.empty()) return Invalid(key_start + left, StrCat("tag \"", key, "\" has no '='"));
      ++pos;
      break;  // "{}" or a trailing ','
    }
    if (key.empty()) return Invalid(pos, "tag name is required");
    for (size_t i = 0; i < key.size(); ++i) {
      if (!IsTagKeyChar(key[i])) {
        return Invalid(key_start + left + i, StrCat("character '", key[i] >= 0x20 ? key[i] : '?',
                                                    "' is not allowed in tag name \"", key, "\""));
      }
    }
    const size_t value_start = ++pos;
    while (pos < text.size() && text[pos] != ',' && text[pos] != '}') ++pos;
    if (pos >= text.size()) return Invalid(pos, "missing '}'");
    std::string_view value = Trim(text.substr(value_start, pos - value_start), &left);
    if (key == kNameTag) {
      status = ValidateAppName(value, value_start + left);
      if (!status.ok()) return status;
      out.name.assign(value);
    } else if (value.empty()) {
      // An empty value is no label; also forget an earlier value of the same key.
      std::erase_if(out.tags, [&](const auto& kv) { return kv.first == key; });
    } else {
      SetTag(out, key, value);
    }
    if (text[pos++] == '}') break;
  }
  if (!Trim(text.substr(pos)).empty()) return Invalid(pos, "unexpected text after '}'");
  return out;
}

}  // namespace embers::ingest
