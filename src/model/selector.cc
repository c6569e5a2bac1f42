#include "model/selector.h"

#include <cstdint>

#include "absl/status/status.h"
#include "base/strings.h"
#include "re2/re2.h"

namespace embers::model {

std::string_view MatchTypeToString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type, std::string name,
                                                  std::string value) {
  LabelMatcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // Prometheus compiles `(?s:...)`: `.` matches a newline too
    auto re =
        std::make_shared<const RE2>(re2::StringPiece(m.value_.data(), m.value_.size()), options);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          StrCat("invalid regular expression \"", m.value_, "\": ", re->error()));
    }
    m.re_ = std::move(re);
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool LabelMatcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      // FullMatch anchors at both ends, as Prometheus does.
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
  }
  return false;
}

namespace {

// Go-style double-quoted literal that the parser reads back unchanged.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
          out += kHex[static_cast<unsigned char>(c) & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool IsPlainName(std::string_view s) {
  if (s.empty() || !IsIdentStart(s[0])) return false;
  for (char c : s) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Recursive-descent parser over the selector text. Positions in errors are 1-based bytes.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Selector> Parse() {
    std::vector<LabelMatcher> matchers;
    SkipSpace();
    if (AtEnd()) return Selector();  // blank: match everything
    bool named = false;              // a metric name was given
    if (IsIdentStart(Peek()) || Peek() == ':') {
      // A metric name in front of the braces is the `__name__` label, as in PromQL.
      std::string name = ReadIdent(/*allow_colon=*/true);
      auto m = LabelMatcher::Create(MatchType::kEqual, "__name__", std::move(name));
      if (!m.ok()) return m.status();
      matchers.push_back(*std::move(m));
      named = true;
      SkipSpace();
      if (AtEnd()) return Selector(std::move(matchers));
    }
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    while (!Consume('}')) {
      if (AtEnd()) return Error("expected label name or '}'");
      // A quoted string alone is the metric name (Prometheus 3's UTF-8 names: {"my.metric"}).
      const size_t term_pos = pos_;
      if (Peek() == '"' || Peek() == '\'' || Peek() == '`') {
        auto s = ReadString();
        if (!s.ok()) return s.status();
        SkipSpace();
        if (Peek() == ',' || Peek() == '}') {
          if (named) return ErrorAt(term_pos, "metric name given twice");
          if (s->empty()) return ErrorAt(term_pos, "empty metric name");
          auto m = LabelMatcher::Create(MatchType::kEqual, "__name__", *std::move(s));
          if (!m.ok()) return m.status();
          matchers.push_back(*std::move(m));
          named = true;
          if (Consume(',')) SkipSpace();
          continue;
        }
        pos_ = term_pos;  // a quoted label name: read again as a matcher
      }
      auto m = ParseMatcher();
      if (!m.ok()) return m.status();
      matchers.push_back(*std::move(m));
      SkipSpace();
      if (Consume(',')) {
        SkipSpace();
        continue;
      }
      if (Peek() != '}') return Error("expected ',' or '}' after a matcher");
    }
    SkipSpace();
    if (!AtEnd()) return Error("unexpected text after '}'");
    return Selector(std::move(matchers));
  }

 private:
  absl::StatusOr<LabelMatcher> ParseMatcher() {
    size_t name_pos = pos_;
    std::string name;
    if (Peek() == '"' || Peek() == '\'' || Peek() == '`') {
      auto s = ReadString();
      if (!s.ok()) return s.status();
      name = *std::move(s);
      if (name.empty()) return ErrorAt(name_pos, "empty label name");
    } else if (IsIdentStart(Peek())) {
      name = ReadIdent(/*allow_colon=*/false);
    } else {
      return Error("expected label name");
    }
    SkipSpace();
    MatchType type;
    if (Consume('=')) {
      type = Consume('~') ? MatchType::kRegexMatch : MatchType::kEqual;
    } else if (Consume('!')) {
      if (Consume('=')) {
        type = MatchType::kNotEqual;
      } else if (Consume('~')) {
        type = MatchType::kRegexNoMatch;
      } else {
        return Error("expected '=' or '~' after '!'");
      }
    } else {
      return Error(StrCat("expected '=', '!=', '=~' or '!~' after label name \"", name, "\""));
    }
    SkipSpace();
    size_t value_pos = pos_;
    if (Peek() != '"' && Peek() != '\'' && Peek() != '`') return Error("expected quoted value");
    auto value = ReadString();
    if (!value.ok()) return value.status();
    auto m = LabelMatcher::Create(type, std::move(name), *std::move(value));
    if (!m.ok()) return ErrorAt(value_pos, ToStd(m.status().message()));
    return m;
  }

  std::string ReadIdent(bool allow_colon) {
    size_t start = pos_;
    while (!AtEnd() && (IsIdentChar(Peek()) || (allow_colon && Peek() == ':'))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // Reads a quoted string at pos_, with Go escapes unless it is a `raw` string.
  absl::StatusOr<std::string> ReadString() {
    size_t start = pos_;
    char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      char c = text_[pos_++];
      if (c == quote) return out;
      if (quote == '`' || c != '\\') {
        if (quote != '`' && c == '\n') return ErrorAt(start, "newline in string");
        out += c;
        continue;
      }
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      size_t esc_pos = pos_ - 1;
      char e = text_[pos_++];
      switch (e) {
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case '\\':
        case '"':
        case '\'':
          out += e;
          break;
        case 'x':
        case 'u':
        case 'U': {
          int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int i = 0; i < digits; ++i) {
            int h = AtEnd() ? -1 : HexValue(text_[pos_]);
            if (h < 0) return ErrorAt(esc_pos, "invalid hexadecimal escape");
            v = v * 16 + static_cast<uint32_t>(h);
            ++pos_;
          }
          if (e == 'x') {
            out += static_cast<char>(v);
          } else {
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
              return ErrorAt(esc_pos, "invalid Unicode code point in escape");
            }
            AppendUtf8(out, v);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2; ++i) {
              if (AtEnd() || text_[pos_] < '0' || text_[pos_] > '7') {
                return ErrorAt(esc_pos, "invalid octal escape");
              }
              v = v * 8 + static_cast<uint32_t>(text_[pos_++] - '0');
            }
            if (v > 255) return ErrorAt(esc_pos, "invalid octal escape");
            out += static_cast<char>(v);
            break;
          }
          return ErrorAt(esc_pos, StrCat("unknown escape sequence '\\", e, "'"));
      }
    }
  }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  absl::Status Error(std::string_view message) const { return ErrorAt(pos_, message); }
  absl::Status ErrorAt(size_t pos, std::string_view message) const {
    return absl::InvalidArgumentError(StrCat("invalid label selector ", Quote(text_),
                                             ": parse error at position ", pos + 1, ": ", message));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string LabelMatcher::ToString() const {
  std::string out = IsPlainName(name_) ? name_ : Quote(name_);
  out += MatchTypeToString(type_);
  out += Quote(value_);
  return out;
}

absl::StatusOr<Selector> Selector::Parse(std::string_view text) { return Parser(text).Parse(); }

bool Selector::Matches(const LabelLookup& lookup) const {
  for (const LabelMatcher& m : matchers_) {
    std::optional<std::string_view> v = lookup(m.name());
    if (!(v ? m.Matches(*v) : m.MatchesEmpty())) return false;
  }
  return true;
}

bool Selector::Matches(LabelPairs labels) const {
  for (const LabelMatcher& m : matchers_) {
    const std::string_view* value = nullptr;
    for (const auto& [name, v] : labels) {
      if (name == m.name()) {
        value = &v;
        break;
      }
    }
    if (!(value ? m.Matches(*value) : m.MatchesEmpty())) return false;
  }
  return true;
}

std::string Selector::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < matchers_.size(); ++i) {
    if (i > 0) out += ',';
    out += matchers_[i].ToString();
  }
  out += '}';
  return out;
}

}  // namespace embers::model
