#include "objstore/http/xml_reader.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "base/status.h"
#include "base/strings.h"

namespace embers::objstore::http {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters that end a tag or attribute name.
bool EndsName(char c) { return IsSpace(c) || c == '/' || c == '>' || c == '=' || c == '<'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The code point of a character reference's digits ("#65", "#x41"), or false.
bool ParseCharRef(std::string_view ref, uint32_t* cp) {
  const bool hex = ref.size() > 1 && ref[1] == 'x';
  std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return false;
  uint32_t v = 0;
  for (char c : digits) {
    const int d = hex ? HexDigitValue(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (d < 0) return false;
    v = v * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  return true;
}

class Parser {
 public:
  Parser(std::string_view doc, const XmlLimits& limits) : doc_(doc), limits_(limits) {}

  absl::StatusOr<XmlElement> Parse() {
    if (doc_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
    bool have_root = false;
    XmlElement root;
    while (pos_ < doc_.size()) {
      if (doc_[pos_] != '<') {
        std::string text;
        const size_t start = pos_;
        EMBERS_RETURN_IF_ERROR(ReadText(&text));
        if (stack_.empty()) {
          if (!StripWhitespace(text).empty()) return Error(start, "text outside the root element");
        } else {
          stack_.back().text += text;
        }
        continue;
      }
      if (Starts("<!--")) {
        EMBERS_RETURN_IF_ERROR(SkipPast("-->", "unterminated comment"));
      } else if (Starts("<?")) {
        EMBERS_RETURN_IF_ERROR(SkipPast("?>", "unterminated processing instruction"));
      } else if (Starts("<![CDATA[")) {
        if (stack_.empty()) return Error(pos_, "CDATA outside the root element");
        const size_t begin = pos_ + 9;
        const size_t end = doc_.find("]]>", begin);
        if (end == std::string_view::npos) return Error(pos_, "unterminated CDATA section");
        stack_.back().text.append(doc_.substr(begin, end - begin));
        pos_ = end + 3;
      } else if (Starts("<!DOCTYPE")) {
        if (have_root || !stack_.empty()) return Error(pos_, "DOCTYPE after the root element");
        const size_t end = doc_.find_first_of("[>", pos_);
        if (end == std::string_view::npos || doc_[end] == '[') {
          return Error(pos_, "DOCTYPE with an internal subset (or unterminated)");
        }
        pos_ = end + 1;
      } else if (Starts("</")) {
        EMBERS_RETURN_IF_ERROR(CloseTag());
        if (stack_.empty()) {
          have_root = true;
          root = std::move(finished_root_);
        }
      } else {
        if (have_root) return Error(pos_, "a second root element");
        EMBERS_RETURN_IF_ERROR(OpenTag());
        if (stack_.empty()) {  // a self-closing root
          have_root = true;
          root = std::move(finished_root_);
        }
      }
    }
    if (!stack_.empty()) {
      return Error(pos_, StrCat("end of document inside <", qnames_.back(), ">"));
    }
    if (!have_root) return Error(pos_, "no root element");
    return root;
  }

 private:
  absl::Status Error(size_t at, std::string_view what) const {
    return absl::InvalidArgumentError(StrCat("malformed XML at byte ", at, ": ", what));
  }

  bool Starts(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }

  absl::Status SkipPast(std::string_view end, std::string_view what) {
    const size_t at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return Error(pos_, what);
    pos_ = at + end.size();
    return absl::OkStatus();
  }

  void SkipSpaces() {
    while (pos_ < doc_.size() && IsSpace(doc_[pos_])) ++pos_;
  }

  std::string_view ReadName() {
    const size_t start = pos_;
    while (pos_ < doc_.size() && !EndsName(doc_[pos_])) ++pos_;
    return doc_.substr(start, pos_ - start);
  }

  // Character data up to the next '<' (or the end), with references decoded.
  absl::Status ReadText(std::string* out) {
    const size_t end = std::min(doc_.find('<', pos_), doc_.size());
    return Decode(end, out);
  }

  // Decodes doc_[pos_, end) into `out` and moves pos_ to `end`.
  absl::Status Decode(size_t end, std::string* out) {
    while (pos_ < end) {
      const size_t amp = doc_.find('&', pos_);
      if (amp == std::string_view::npos || amp >= end) {
        out->append(doc_.substr(pos_, end - pos_));
        pos_ = end;
        break;
      }
      out->append(doc_.substr(pos_, amp - pos_));
      const size_t semi = doc_.find(';', amp);
      if (semi == std::string_view::npos || semi >= end || semi - amp > 12) {
        return Error(amp, "unterminated entity reference");
      }
      const std::string_view ref = doc_.substr(amp + 1, semi - amp - 1);
      uint32_t cp = 0;
      if (ref == "amp") {
        out->push_back('&');
      } else if (ref == "lt") {
        out->push_back('<');
      } else if (ref == "gt") {
        out->push_back('>');
      } else if (ref == "quot") {
        out->push_back('"');
      } else if (ref == "apos") {
        out->push_back('\'');
      } else if (!ref.empty() && ref[0] == '#' && ParseCharRef(ref, &cp)) {
        AppendUtf8(cp, out);
      } else {
        return Error(amp, StrCat("unknown entity reference &", ref, ";"));
      }
      pos_ = semi + 1;
    }
    return absl::OkStatus();
  }

  absl::Status OpenTag() {
    const size_t start = pos_;
    ++pos_;  // '<'
    const std::string_view qname = ReadName();
    if (qname.empty()) return Error(start, "empty element name");
    if (stack_.size() >= limits_.max_depth) {
      return Error(start, StrCat("elements nested deeper than ", limits_.max_depth));
    }
    if (++elements_ > limits_.max_elements) {
      return Error(start, StrCat("more than ", limits_.max_elements, " elements"));
    }
    // Attributes are checked for form and dropped: nothing we read is in one.
    for (;;) {
      SkipSpaces();
      if (pos_ >= doc_.size()) return Error(start, "unterminated start tag");
      if (Starts("/>") || doc_[pos_] == '>') break;
      const size_t attr = pos_;
      if (ReadName().empty()) return Error(attr, "malformed attribute");
      SkipSpaces();
      if (pos_ >= doc_.size() || doc_[pos_] != '=') return Error(attr, "attribute without '='");
      ++pos_;
      SkipSpaces();
      if (pos_ >= doc_.size() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) {
        return Error(attr, "unquoted attribute value");
      }
      const size_t close = doc_.find(doc_[pos_], pos_ + 1);
      if (close == std::string_view::npos) return Error(attr, "unterminated attribute value");
      if (doc_.substr(pos_, close - pos_).find('<') != std::string_view::npos) {
        return Error(attr, "'<' in an attribute value");
      }
      pos_ = close + 1;
    }
    XmlElement element;
    const size_t colon = qname.rfind(':');
    element.name = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    if (element.name.empty()) return Error(start, "empty local name");
    const bool self_closing = doc_[pos_] == '/';
    pos_ += self_closing ? 2 : 1;
    if (self_closing) {
      Attach(std::move(element));
    } else {
      stack_.push_back(std::move(element));
      qnames_.emplace_back(qname);
    }
    return absl::OkStatus();
  }

  absl::Status CloseTag() {
    const size_t start = pos_;
    pos_ += 2;  // "</"
    const std::string_view qname = ReadName();
    SkipSpaces();
    if (pos_ >= doc_.size() || doc_[pos_] != '>') return Error(start, "malformed end tag");
    ++pos_;
    if (stack_.empty()) return Error(start, StrCat("</", qname, "> without a start tag"));
    if (qname != qnames_.back()) {
      return Error(start, StrCat("</", qname, "> closes <", qnames_.back(), ">"));
    }
    XmlElement element = std::move(stack_.back());
    stack_.pop_back();
    qnames_.pop_back();
    Attach(std::move(element));
    return absl::OkStatus();
  }

  // Adds a complete element to its parent, or keeps it as the root.
  void Attach(XmlElement element) {
    if (stack_.empty()) {
      finished_root_ = std::move(element);
    } else {
      stack_.back().children.push_back(std::move(element));
    }
  }

  std::string_view doc_;
  XmlLimits limits_;
  size_t pos_ = 0;
  size_t elements_ = 0;
  std::vector<XmlElement> stack_;    // open elements, outermost first
  std::vector<std::string> qnames_;  // their names as written, to match end tags
  XmlElement finished_root_;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string_view XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c == nullptr ? std::string_view() : std::string_view(c->text);
}

absl::StatusOr<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits) {
  return Parser(document, limits).Parse();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace embers::objstore::http
