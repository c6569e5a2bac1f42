#include "pprof/testdata.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace embers::pprof::testing
