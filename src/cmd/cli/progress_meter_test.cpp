#include "cmd/cli/progress_meter.h"

#include <gtest/gtest.h>

namespace embers::cli {
namespace {

TEST(ProgressMeter, LineCountsItemsBytesAndShare) {
  ProgressMeter meter("upload", 4, 4096, ProgressMeter::Mode::kOff);
  meter.Add(1, 1024);
  meter.Add(1, 1024);
  const std::string line = meter.Line();
  EXPECT_NE(line.find("upload: 2/4 files, 2.0 KiB/4.0 KiB"), std::string::npos) << line;
  EXPECT_NE(line.find(" 50%"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA "), std::string::npos) << line;
}

TEST(ProgressMeter, UnknownTotalBytesShowsWhatWasDone) {
  ProgressMeter meter("verify", 3, 0, ProgressMeter::Mode::kOff);
  meter.Add(3, 2048);
  const std::string line = meter.Line();
  EXPECT_NE(line.find("verify: 3/3 files, 2.0 KiB,"), std::string::npos) << line;
  EXPECT_NE(line.find("100%"), std::string::npos) << line;
}

}  // namespace
}  // namespace embers::cli
