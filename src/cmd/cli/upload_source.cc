#include "cmd/cli/upload_source.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "base/strings.h"

namespace embers::cli {
namespace {

constexpr std::string_view kJfrMagic{"FLR\0", 4};

bool IsGzip(std::string_view bytes) {
  return bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b';
}

// The first bytes of a gzip stream's content (at most `want`), inflating no more than that.
std::string GzipPrefix(std::string_view bytes, size_t want) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "";
  std::string out(want, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(bytes.size(), 1 << 20));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(want);
  while (z.avail_out > 0) {
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK) break;
  }
  out.resize(want - z.avail_out);
  inflateEnd(&z);
  return out;
}

// Folded stacks: "frame;frame;frame 123" on the first non-empty line.
bool LooksFolded(std::string_view text) {
  text = StripWhitespace(text);
  std::string_view line = text.substr(0, text.find('\n'));
  line = StripWhitespace(line);
  const size_t space = line.rfind(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size()) return false;
  for (char c : line.substr(space + 1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsBinary(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size() && i < 100; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return true;
  }
  return false;
}

}  // namespace

std::string_view UploadFormatName(UploadFormat format) {
  switch (format) {
    case UploadFormat::kPprof:
      return "pprof";
    case UploadFormat::kFolded:
      return "folded";
    case UploadFormat::kJfr:
      return "jfr";
    case UploadFormat::kSpeedscope:
      return "speedscope";
  }
  return "pprof";
}

absl::StatusOr<UploadFormat> ParseUploadFormat(std::string_view name) {
  if (name == "pprof") return UploadFormat::kPprof;
  if (name == "folded" || name == "collapsed") return UploadFormat::kFolded;
  if (name == "jfr") return UploadFormat::kJfr;
  if (name == "speedscope") return UploadFormat::kSpeedscope;
  return absl::InvalidArgumentError(
      StrCat("unknown format \"", name, "\" (pprof, folded, jfr or speedscope)"));
}

absl::StatusOr<UploadFormat> DetectUploadFormat(std::string_view name, std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("the file is empty");
  std::string inflated;
  std::string_view head = bytes.substr(0, 4096);
  if (IsGzip(bytes)) {
    inflated = GzipPrefix(bytes, 4096);
    if (inflated.empty()) return absl::InvalidArgumentError("a gzip file that does not inflate");
    head = inflated;
  }
  if (head.starts_with(kJfrMagic)) return UploadFormat::kJfr;
  std::string_view text = StripWhitespace(head);
  if (text.starts_with("{")) {
    if (head.find("speedscope") != std::string_view::npos) return UploadFormat::kSpeedscope;
    return absl::InvalidArgumentError(
        "JSON that is not a speedscope profile (flame graph JSON can be opened with the UI's "
        "upload instead)");
  }
  if (IsBinary(head)) return UploadFormat::kPprof;
  if (LooksFolded(text)) return UploadFormat::kFolded;
  if (name.ends_with(".pb") || name.ends_with(".pprof")) return UploadFormat::kPprof;
  return absl::InvalidArgumentError(
      "not a profile this command recognises (pprof, folded stacks, JFR or speedscope); pass "
      "--format to force one");
}

absl::StatusOr<std::vector<UploadFile>> CollectUploadFiles(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<UploadFile> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return absl::InvalidArgumentError(StrCat("cannot read ", path, ": no such file"));
    }
    if (fs::is_regular_file(st)) {
      files.push_back({path, fs::file_size(path, ec)});
      continue;
    }
    if (!fs::is_directory(st)) {
      return absl::InvalidArgumentError(StrCat(path, " is not a file or a directory"));
    }
    std::vector<UploadFile> found;
    fs::recursive_directory_iterator it(path, fs::directory_options::none, ec);
    if (ec) return absl::InvalidArgumentError(StrCat("cannot read ", path, ": ", ec.message()));
    for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
      if (ec) {
        return absl::InvalidArgumentError(StrCat("cannot read ", path, ": ", ec.message()));
      }
      const std::string name = it->path().filename().string();
      if (name.starts_with(".")) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) found.push_back({it->path().string(), it->file_size()});
    }
    std::sort(found.begin(), found.end(),
              [](const UploadFile& a, const UploadFile& b) { return a.path < b.path; });
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

absl::StatusOr<std::string> IngestApplicationName(std::string_view service,
                                                  const std::vector<std::string>& labels) {
  if (service.empty()) return absl::InvalidArgumentError("--service-name is empty");
  std::string name(service);
  if (labels.empty()) return name;
  name += '{';
  bool first = true;
  for (const std::string& label : labels) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          StrCat("--label \"", label, "\" is not written name=value"));
    }
    if (!first) name += ',';
    first = false;
    name += label;
  }
  name += '}';
  return name;
}

}  // namespace embers::cli
