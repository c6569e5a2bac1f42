#include "ingest/legacy/perf_script.h"

#include <vector>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Whether `line` from position `i` holds "\s+\d+/*\d*\s+\S." — what follows the command name in
// a header (pid, optional /tid, then the rest of the header).
bool HeaderTail(std::string_view line, size_t i) {
  const size_t n = line.size();
  size_t k = i;
  while (k < n && IsSpace(line[k])) ++k;
  if (k == i) return false;
  const size_t digits = k;
  while (k < n && IsDigit(line[k])) ++k;
  if (k == digits) return false;
  while (k < n && line[k] == '/') ++k;
  while (k < n && IsDigit(line[k])) ++k;
  const size_t spaces = k;
  while (k < n && IsSpace(line[k])) ++k;
  if (k == spaces) return false;
  return k + 1 < n;  // a non-space character and at least one more
}

// The command name of a header line ("comm pid/tid time: event: ..."): the shortest prefix of at
// least two characters, starting with a non-space, that the pid part follows. Empty when `line`
// is no header.
std::string_view HeaderCommand(std::string_view line) {
  if (line.size() < 2 || IsSpace(line[0])) return {};
  for (size_t end = 2; end < line.size(); ++end) {
    if (HeaderTail(line, end)) return line.substr(0, end);
  }
  return {};
}

// The symbol of a frame line ("\s*\w+\s*<symbol> (<module>)..."); empty when `line` is none. The
// symbol runs to the last " (" that a module name without spaces and a ')' follow.
std::string_view FrameSymbol(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  const size_t address = i;
  while (i < line.size() && IsWordChar(line[i])) ++i;
  if (i == address) return {};
  while (i < line.size() && IsSpace(line[i])) ++i;
  for (size_t open = line.rfind(" ("); open != std::string_view::npos && open > i;
       open = line.rfind(" (", open - 1)) {
    size_t k = open + 2;
    while (k < line.size() && line[k] != ')' && !IsSpace(line[k])) ++k;
    if (k < line.size() && line[k] == ')') return line.substr(i, open - i);
    if (open == 0) break;
  }
  return {};
}

// Splits off the next line ("\n"-separated, as upstream splits; a "\r" stays part of the line).
std::string_view NextLine(std::string_view* text) {
  const size_t nl = text->find('\n');
  std::string_view line = text->substr(0, nl);
  text->remove_prefix(nl == std::string_view::npos ? text->size() : nl + 1);
  return line;
}

}  // namespace

bool IsPerfScript(std::string_view text) {
  const size_t nl = text.find('\n');
  return nl != std::string_view::npos && !HeaderCommand(text.substr(0, nl)).empty();
}

absl::StatusOr<StackSamples> ParsePerfScript(std::string_view text, const ParseLimits& limits) {
  StackSamplesBuilder builder(limits);
  std::vector<uint32_t> leaf_first;
  std::vector<uint32_t> root_first;
  size_t line_number = 0;
  while (!text.empty()) {
    std::string_view line = NextLine(&text);
    ++line_number;
    if (line.empty() && text.empty()) break;  // the text's final newline
    const std::string_view command = HeaderCommand(line);
    if (command.empty()) {
      return UnprocessableError(
          StrCat("perf script: line ", line_number, " is not an event header (\"comm pid ...\")"));
    }
    leaf_first.clear();
    uint32_t id;
    EMBERS_RETURN_IF_ERROR(builder.InternFrame(command, &id));
    leaf_first.push_back(id);  // reversed below: the root
    while (!text.empty()) {
      line = NextLine(&text);
      ++line_number;
      if (line.empty()) break;
      const std::string_view symbol = FrameSymbol(line);
      if (symbol.empty()) {
        return UnprocessableError(StrCat("perf script: line ", line_number,
                                         " is not a stack frame (\"addr symbol (module)\")"));
      }
      if (leaf_first.size() >= limits.max_stack_depth) {
        return PayloadTooLargeError(
            StrCat("perf script: a stack is deeper than ", limits.max_stack_depth, " frames"));
      }
      EMBERS_RETURN_IF_ERROR(builder.InternFrame(symbol, &id));
      leaf_first.push_back(id);
    }
    // The command name first, then the frames outermost first.
    root_first.assign(1, leaf_first[0]);
    root_first.insert(root_first.end(), leaf_first.rbegin(), leaf_first.rend() - 1);
    EMBERS_RETURN_IF_ERROR(builder.AddStack(root_first, 1));
  }
  return builder.Finish();
}

}  // namespace embers::ingest
