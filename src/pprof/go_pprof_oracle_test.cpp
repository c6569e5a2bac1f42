// Oracle test: `go tool pprof -raw` (Go's own pprof parser and printer) must print the same
// thing for every test file and for our decode → encode of it. Skipped when Go is not
// installed (Debian package golang-go).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "pprof/testdata.h"

namespace embers::pprof {
namespace {

bool HaveGo() { return std::system("go version > /dev/null 2>&1") == 0; }

// Runs `go tool pprof -raw path` and returns its stdout ("" on failure).
std::string PprofRaw(const std::string& path) {
  std::string cmd = "go tool pprof -raw '" + path + "' 2>/dev/null";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  if (pclose(f) != 0) return "";
  return out;
}

TEST(GoPprofOracle, RawOutputMatchesAfterRoundTrip) {
  auto files = testing::AllPprofFiles();
  if (files.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  if (!HaveGo()) GTEST_SKIP() << "go not installed (apt-get install golang-go)";
  std::string tmp = (std::filesystem::temp_directory_path() /
                     ("embers_pprof_oracle_" + std::to_string(getpid()) + ".pb"))
                        .string();
  int compared = 0;
  for (const std::string& path : files) {
    auto p = Decode(testing::ReadFile(path), DecodeOptions{.max_decompressed_size = 0});
    if (!p.ok()) continue;  // the two known-bad files; covered by decoder_test
    SCOPED_TRACE(path);
    {
      std::ofstream out(tmp, std::ios::binary);
      out << Encode(*p);
    }
    std::string want = PprofRaw(path);
    ASSERT_FALSE(want.empty()) << "go tool pprof failed on the original";
    EXPECT_EQ(PprofRaw(tmp), want);
    ++compared;
  }
  std::filesystem::remove(tmp);
  EXPECT_GT(compared, 15);
}

}  // namespace
}  // namespace embers::pprof
