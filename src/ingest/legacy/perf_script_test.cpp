#include "ingest/legacy/perf_script.h"

#include <gtest/gtest.h>

namespace embers::ingest {
namespace {

// Two events of `perf record -g` as `perf script` prints them.
constexpr std::string_view kScript =
    "java 12688 [002] 6544038.708352: cpu-clock:\n"
    "\tffffffff9e8b0bfa finish_task_switch+0x7a ([kernel.kallsyms])\n"
    "\t    7f2fd3d1d0d5 Interpreter (/usr/lib/jvm/libjvm.so)\n"
    "\t    7f2fd3d0b0c1 call_stub (/usr/lib/jvm/libjvm.so)\n"
    "\n"
    "java 12688/12690 [002] 6544038.709352: cpu-clock:\n"
    "\t    7f2fd3d1d0d5 Interpreter (/usr/lib/jvm/libjvm.so)\n"
    "\t    7f2fd3d0b0c1 call_stub (/usr/lib/jvm/libjvm.so)\n"
    "\n"
    "swapper     0 [000] 6544038.710000: cpu-clock:\n"
    "\tffffffff9e8b0bfa native_safe_halt (foo bar) ([kernel.kallsyms])\n";

TEST(PerfScript, EachEventCountsOnceOnItsStackRootFirst) {
  EXPECT_TRUE(IsPerfScript(kScript));
  absl::StatusOr<StackSamples> s = ParsePerfScript(kScript);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(),
            "java;call_stub;Interpreter 1\n"
            "java;call_stub;Interpreter;finish_task_switch+0x7a 1\n"
            "swapper;native_safe_halt (foo bar) 1\n");
}

TEST(PerfScript, RecognisesOnlyHeaders) {
  EXPECT_FALSE(IsPerfScript("main;work 10\nmain 5\n"));
  EXPECT_FALSE(IsPerfScript("java 12688 [002] 1.0: cpu-clock:"));  // no second line
  EXPECT_FALSE(IsPerfScript("\tffff foo (bar)\n\n"));
}

TEST(PerfScript, BadLinesAre422NamingTheLine) {
  absl::StatusOr<StackSamples> s = ParsePerfScript("java 1 [0] 1.0: c:\n\tnot a frame\n\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("line 2"), std::string_view::npos) << s.status();
  s = ParsePerfScript("java 1 [0] 1.0: c:\n\tffff f (m)\n\n\nnext 2 [0] 1.0: c:\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("line 4"), std::string_view::npos) << s.status();
}

TEST(PerfScript, DeepStacksAreBounded) {
  std::string text = "java 1 [0] 1.0: c:\n";
  for (int i = 0; i < 20; ++i) text += "\tffff f (m)\n";
  absl::StatusOr<StackSamples> s = ParsePerfScript(text, {.max_stack_depth = 10});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted) << s.status();
}

}  // namespace
}  // namespace embers::ingest
