// Test helpers: locating and reading the shared Pyroscope test inputs, and a pprof made in code
// for the tests that need some realistic profile but not a particular file (they must run where
// the shared test data is absent).
#ifndef EMBERS_PPROF_TESTDATA_H_
#define EMBERS_PPROF_TESTDATA_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace embers::pprof::testing {

// $EMBERS_TESTDATA, else ../shared/testdata (relative to the working directory, the project
// root under ctest); "" when neither exists.
std::string TestdataDir();
// Every pprof input: pprof/* and ingest-multipart/*.pprof (absolute paths, sorted).
std::vector<std::string> AllPprofFiles();
std::string ReadFile(const std::string& path);
std::string BaseName(const std::string& path);

// What SyntheticPprof makes. The defaults give a profile of a few KB.
struct SyntheticPprofOptions {
  int functions = 40;  // at least 3: runtime.main, main.main and methods below them
  int samples = 30;    // before Normalize merges the ones with equal stacks and labels
  int max_depth = 16;  // frames of the deepest stack (at least 2)
  // 2021-04-25, the time of go_cpu_tiny.pb.gz: years older than any ingestion window.
  int64_t time_nanos = 1'619'321'948'265'140'000;
  int64_t duration_nanos = 10'000'000'000;
  // String pprof labels: sample i gets `key` = values[i % values.size()], for each entry (the
  // distributor lifts them into series labels, so one profile becomes several series).
  std::vector<std::pair<std::string, std::vector<std::string>>> labels;
  // "span_id", or "profile_id" (renamed span_id on split): that label with a 16-hex-digit span
  // id on every other sample. Empty: none.
  std::string span_label;
  uint64_t seed = 1;  // the stacks and values drawn
};

// A pprof shaped like the Go runtime's CPU profiles (go_cpu_*.pb.gz): sample types
// samples/count and cpu/nanoseconds, period type cpu/nanoseconds every 10 ms, one symbolised
// mapping, functions with system names, file names and start lines, two call sites (locations)
// per function, every seventh holding an inlined call (two lines), and stacks from runtime.main
// through main.main that share their root-most frames. Encoded, uncompressed, as a .pb file
// holds it; the same options give the same bytes.
std::string SyntheticPprof(const SyntheticPprofOptions& options = {});

}  // namespace embers::pprof::testing

#endif  // EMBERS_PPROF_TESTDATA_H_
