// Test helper: locating and reading the shared Pyroscope test inputs.
#ifndef EMBERS_PPROF_TESTDATA_H_
#define EMBERS_PPROF_TESTDATA_H_

#include <string>
#include <vector>

namespace embers::pprof::testing {

// $EMBERS_TESTDATA, else ../shared/testdata (relative to the working directory, the project
// root under ctest); "" when neither exists.
std::string TestdataDir();
// Every pprof input: pprof/* and ingest-multipart/*.pprof (absolute paths, sorted).
std::vector<std::string> AllPprofFiles();
std::string ReadFile(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace embers::pprof::testing

#endif  // EMBERS_PPROF_TESTDATA_H_
