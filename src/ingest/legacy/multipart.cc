#include "ingest/legacy/multipart.h"

#include "absl/status/status.h"
#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(StrCat("multipart body: ", message)));
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Splits "type/subtype; a=b; c=\"d\"" into the media type and a parameter lookup. Quoted values
// may contain ';' and backslash escapes.
struct MediaType {
  std::string_view type;
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased

  const std::string* Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

absl::StatusOr<MediaType> ParseMediaType(std::string_view s) {
  MediaType out;
  size_t pos = s.find(';');
  out.type = StripWhitespace(s.substr(0, pos));
  while (pos != std::string_view::npos && pos < s.size()) {
    ++pos;  // past ';'
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
    if (pos >= s.size()) break;
    size_t eq = pos;
    while (eq < s.size() && s[eq] != '=' && s[eq] != ';') ++eq;
    std::string name = AsciiLower(StripWhitespace(s.substr(pos, eq - pos)));
    if (eq >= s.size() || s[eq] == ';') {
      if (!name.empty()) return Invalid(StrCat("parameter \"", name, "\" has no value"));
      pos = eq;
      continue;
    }
    pos = eq + 1;
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < s.size()) {
        char c = s[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && pos < s.size()) c = s[pos++];
        value.push_back(c);
      }
      if (!closed) return Invalid(StrCat("unterminated quoted value of \"", name, "\""));
      while (pos < s.size() && s[pos] != ';') {
        if (!IsSpace(s[pos])) return Invalid(StrCat("junk after the value of \"", name, "\""));
        ++pos;
      }
    } else {
      size_t end = s.find(';', pos);
      if (end == std::string_view::npos) end = s.size();
      value.assign(StripWhitespace(s.substr(pos, end - pos)));
      pos = end;
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// If `body` at `pos` holds a delimiter line ("--boundary" then "--" or optional padding and a
// line end), returns the offset just past it and sets *close; otherwise npos.
size_t MatchDelimiter(std::string_view body, size_t pos, std::string_view dash_boundary,
                      bool* close) {
  if (body.substr(pos, dash_boundary.size()) != dash_boundary) return std::string_view::npos;
  pos += dash_boundary.size();
  if (body.substr(pos, 2) == "--") {
    *close = true;
    return pos + 2;
  }
  while (pos < body.size() && IsSpace(body[pos])) ++pos;
  if (body.substr(pos, 2) == "\r\n") return pos + 2;
  if (body.substr(pos, 1) == "\n") return pos + 1;
  return std::string_view::npos;
}

}  // namespace

const MultipartPart* MultipartForm::Find(std::string_view name) const {
  for (const MultipartPart& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool IsMultipartFormData(std::string_view content_type) {
  std::string_view type = StripWhitespace(content_type.substr(0, content_type.find(';')));
  return EqualsIgnoreCase(type, "multipart/form-data");
}

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  absl::StatusOr<MediaType> mt = ParseMediaType(content_type);
  if (!mt.ok()) return mt.status();
  if (!EqualsIgnoreCase(mt->type.substr(0, 10), "multipart/")) {
    return Invalid(StrCat("Content-Type \"", content_type.substr(0, 64), "\" is not multipart"));
  }
  const std::string* boundary = mt->Param("boundary");
  if (boundary == nullptr || boundary->empty()) {
    return Invalid("Content-Type has no boundary parameter");
  }
  if (boundary->size() > 70) return Invalid("boundary is longer than 70 characters");
  return *boundary;
}

absl::StatusOr<MultipartForm> ParseMultipart(std::string_view content_type, std::string_view body,
                                             const MultipartLimits& limits) {
  absl::StatusOr<std::string> boundary = MultipartBoundary(content_type);
  if (!boundary.ok()) return boundary.status();
  const std::string dash_boundary = StrCat("--", *boundary);
  const std::string nl_dash_boundary = StrCat("\n", dash_boundary);

  // The first delimiter: at the very start, or at the start of a line after a preamble.
  bool close = false;
  size_t pos = MatchDelimiter(body, 0, dash_boundary, &close);
  for (size_t from = 0; pos == std::string_view::npos;) {
    const size_t nl = body.find(nl_dash_boundary, from);
    if (nl == std::string_view::npos) return Invalid("no boundary delimiter found");
    pos = MatchDelimiter(body, nl + 1, dash_boundary, &close);
    from = nl + 1;
  }

  MultipartForm form;
  while (!close) {
    if (form.parts.size() >= limits.max_parts) {
      return Invalid(StrCat("more than ", limits.max_parts, " parts"));
    }
    const size_t part_start = pos;
    MultipartPart part;
    // Headers, up to an empty line.
    while (true) {
      if (pos - part_start > limits.max_header_bytes) {
        return Invalid(StrCat("part headers at byte ", part_start, " exceed ",
                              limits.max_header_bytes, " bytes"));
      }
      const size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) {
        return Invalid(StrCat("unterminated part headers at byte ", part_start));
      }
      std::string_view line = body.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const size_t line_start = pos;
      pos = nl + 1;
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return Invalid(StrCat("malformed part header at byte ", line_start));
      }
      std::string_view name = StripWhitespace(line.substr(0, colon));
      std::string_view value = StripWhitespace(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "Content-Disposition")) {
        absl::StatusOr<MediaType> cd = ParseMediaType(value);
        if (!cd.ok()) return Annotate(cd.status(), StrCat("part at byte ", part_start));
        if (const std::string* v = cd->Param("name")) part.name = *v;
        if (const std::string* v = cd->Param("filename")) part.filename = *v;
      } else if (EqualsIgnoreCase(name, "Content-Type")) {
        part.content_type.assign(value);
      }
    }
    // The body runs to the next delimiter, whose leading CRLF (or LF) is not part of it. Go's
    // reader also accepts a delimiter right at the start of the body (an empty part).
    const size_t body_start = pos;
    size_t body_end = std::string_view::npos;
    size_t next = MatchDelimiter(body, pos, dash_boundary, &close);
    if (next != std::string_view::npos) {
      body_end = body_start;
    } else {
      for (size_t from = pos; next == std::string_view::npos;) {
        const size_t nl = body.find(nl_dash_boundary, from);
        if (nl == std::string_view::npos) {
          return Invalid(StrCat("part \"", part.name.substr(0, 64), "\" at byte ", part_start,
                                " is not terminated by a boundary delimiter (truncated body?)"));
        }
        next = MatchDelimiter(body, nl + 1, dash_boundary, &close);
        body_end = nl > body_start && body[nl - 1] == '\r' ? nl - 1 : nl;
        from = nl + 1;
      }
    }
    part.body = body.substr(body_start, body_end - body_start);
    form.parts.push_back(std::move(part));
    pos = next;
  }
  return form;
}

}  // namespace embers::ingest
