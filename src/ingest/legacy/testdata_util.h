// Test helper: locating and reading ../shared/testdata (tests only).
//
// ctest sets EMBERS_TESTDATA and runs from the project root; a test run by hand from the project
// root finds ../shared/testdata directly. Tests GTEST_SKIP when the directory is absent.
#ifndef EMBERS_INGEST_LEGACY_TESTDATA_UTIL_H_
#define EMBERS_INGEST_LEGACY_TESTDATA_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace embers::ingest::testing {

// The pyroscope/ testdata directory, or "" when not found.
inline std::string PyroscopeTestdata() {
  std::filesystem::path base;
  if (const char* env = std::getenv("EMBERS_TESTDATA"); env != nullptr && *env != '\0') {
    base = env;
  } else {
    base = "../shared/testdata";
  }
  std::filesystem::path dir = base / "pyroscope";
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? dir.string() : std::string();
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace embers::ingest::testing

// Skips the test when testdata is missing; otherwise binds `dir` to the pyroscope/ directory.
#define EMBERS_REQUIRE_TESTDATA(dir)                                                        \
  const std::string dir = ::embers::ingest::testing::PyroscopeTestdata();                   \
  if (dir.empty()) {                                                                        \
    GTEST_SKIP() << "testdata not found: set EMBERS_TESTDATA or run from the project root " \
                    "with ../shared/testdata present";                                      \
  }

#endif  // EMBERS_INGEST_LEGACY_TESTDATA_UTIL_H_
