#include "pprof/testdata.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "pprof/encoder.h"
#include "pprof/profile.h"
#include "pprof/split.h"

namespace embers::pprof::testing {

std::string TestdataDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("EMBERS_TESTDATA"); env != nullptr && fs::is_directory(env)) {
    return env;
  }
  if (fs::is_directory("../shared/testdata")) return fs::absolute("../shared/testdata").string();
  return "";
}

std::vector<std::string> AllPprofFiles() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::string dir = TestdataDir();
  if (dir.empty()) return out;
  for (const auto& e : fs::directory_iterator(dir + "/pyroscope/pprof")) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  for (const auto& e : fs::directory_iterator(dir + "/pyroscope/ingest-multipart")) {
    if (e.path().extension() == ".pprof") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string SyntheticPprof(const SyntheticPprofOptions& options) {
  const int f = std::max(options.functions, 3);
  const size_t max_depth = static_cast<size_t>(std::max(options.max_depth, 2));
  uint64_t state = options.seed;
  auto draw = [&state](uint64_t n) {  // 0 .. n-1, from a 64-bit LCG's high bits
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  Profile p;
  std::map<std::string, int64_t> interned;
  auto str = [&](const std::string& s) {
    auto [it, added] = interned.emplace(s, static_cast<int64_t>(p.strings.size()));
    if (added) p.AddString(s);
    return it->second;
  };
  str("");
  p.sample_types = {{str("samples"), str("count")}, {str("cpu"), str("nanoseconds")}};
  p.period_type = {str("cpu"), str("nanoseconds")};
  p.has_period_type = true;
  p.period = 10'000'000;
  p.time_nanos = options.time_nanos;
  p.duration_nanos = options.duration_nanos;
  const uint64_t text = 0x401000;
  p.mappings.push_back({.id = 1,
                        .memory_start = 0x400000,
                        .memory_limit = text + 0x10 * 2 * static_cast<uint64_t>(f),
                        .filename = str("/usr/local/bin/app"),
                        .build_id = str("4f3c2a1b0e9d8c7b"),
                        .has_functions = true,
                        .has_filenames = true,
                        .has_line_numbers = true,
                        .has_inline_frames = true});
  for (int i = 0; i < f; ++i) {
    const std::string pkg = "pkg" + std::to_string(i % 17);
    const std::string type = "Type" + std::to_string(i % 5);
    const std::string name = i == 0   ? "runtime.main"
                             : i == 1 ? "main.main"
                                      : "github.com/example/app/internal/" + pkg + ".(*" + type +
                                            ").Method" + std::to_string(i);
    const std::string file = i == 0   ? "/usr/local/go/src/runtime/proc.go"
                             : i == 1 ? "/app/main.go"
                                      : "/app/internal/" + pkg + "/" + type + ".go";
    p.functions.push_back({.id = static_cast<uint64_t>(i) + 1,
                           .name = str(name),
                           .system_name = str(name),
                           .filename = str(file),
                           .start_line = 10 * i + 1});
  }
  // Location l (id l + 1) is a call site in function l % f.
  for (int l = 0; l < 2 * f; ++l) {
    const int fn = l % f;
    Location loc{.id = static_cast<uint64_t>(l) + 1,
                 .mapping_id = 1,
                 .address = text + 0x10 * static_cast<uint64_t>(l),
                 .line_begin = static_cast<uint32_t>(p.lines.size())};
    if (l % 7 == 3) {  // an inlined callee, leaf first
      const int callee = 2 + (fn + 1) % (f - 2);
      p.lines.push_back(
          {.function_id = static_cast<uint64_t>(callee) + 1, .line = 10 * callee + 3});
    }
    p.lines.push_back({.function_id = static_cast<uint64_t>(fn) + 1, .line = 10 * fn + 2 + l / f});
    loc.line_count = static_cast<uint32_t>(p.lines.size()) - loc.line_begin;
    p.locations.push_back(loc);
  }
  std::vector<uint64_t> root_first;
  for (int s = 0; s < options.samples; ++s) {
    // runtime.main → main.main → a walk in which each function calls one of three others.
    const size_t depth = 2 + draw(max_depth - 1);
    root_first = {1, 2};
    uint64_t fn = 1;
    while (root_first.size() < depth) {
      fn = 2 + (fn * 7 + draw(3)) % static_cast<uint64_t>(f - 2);
      root_first.push_back(fn + 1 + static_cast<uint64_t>(f) * draw(2));
    }
    Sample sample{.location_begin = static_cast<uint32_t>(p.location_ids.size()),
                  .location_count = static_cast<uint32_t>(depth),
                  .value_begin = static_cast<uint32_t>(p.values.size()),
                  .value_count = 2,
                  .label_begin = static_cast<uint32_t>(p.labels.size())};
    p.location_ids.insert(p.location_ids.end(), root_first.rbegin(), root_first.rend());
    const int64_t count = 1 + static_cast<int64_t>(draw(4));
    p.values.push_back(count);
    p.values.push_back(count * p.period);
    for (const auto& [key, values] : options.labels) {
      if (values.empty()) continue;
      p.labels.push_back({.key = str(key), .str = str(values[s % values.size()])});
    }
    if (!options.span_label.empty() && s % 2 == 0) {
      const uint64_t span = 0x5a5a000000000000ull + options.seed * 1000 + static_cast<uint64_t>(s);
      p.labels.push_back({.key = str(options.span_label), .str = str(FormatSpanId(span))});
    }
    sample.label_count = static_cast<uint32_t>(p.labels.size()) - sample.label_begin;
    p.samples.push_back(sample);
  }
  return Encode(p);
}

}  // namespace embers::pprof::testing
