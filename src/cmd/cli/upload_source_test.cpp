#include "cmd/cli/upload_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/compression.h"

namespace embers::cli {
namespace {

namespace fs = std::filesystem;

std::string Testdata(const std::string& rel) {
  const char* dir = std::getenv("EMBERS_TESTDATA");
  return dir ? std::string(dir) + "/pyroscope/" + rel : "";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(UploadSource, DetectsFormatsFromBytes) {
  EXPECT_EQ(*DetectUploadFormat("x", "main;work 10\nmain;idle 3\n"), UploadFormat::kFolded);
  EXPECT_EQ(*DetectUploadFormat("x", std::string("FLR\0\0\2\0\0", 8)), UploadFormat::kJfr);
  EXPECT_EQ(*DetectUploadFormat("x", Gzip(std::string("FLR\0\0\2\0\0", 8))), UploadFormat::kJfr);
  EXPECT_EQ(*DetectUploadFormat("x", Gzip("\x0a\x04\x08\x01\x10\x02")), UploadFormat::kPprof);
  EXPECT_EQ(*DetectUploadFormat("x", std::string("\x0a\x04\x08\x01\x10\x02", 6)),
            UploadFormat::kPprof);
  EXPECT_EQ(*DetectUploadFormat(
                "x", R"({"$schema":"https://www.speedscope.app/file-format-schema.json"})"),
            UploadFormat::kSpeedscope);
  EXPECT_FALSE(DetectUploadFormat("x", "{\"names\":[]}").ok());
  EXPECT_FALSE(DetectUploadFormat("x", "hello world\n").ok());
  EXPECT_FALSE(DetectUploadFormat("x", "").ok());
}

TEST(UploadSource, DetectsTheSharedTestdata) {
  if (Testdata("").empty() || !fs::exists(Testdata("pprof"))) {
    GTEST_SKIP() << "shared/testdata not found (EMBERS_TESTDATA); skipping";
  }
  EXPECT_EQ(*DetectUploadFormat("f", Slurp(Testdata("pprof/go_cpu_tiny.pb.gz"))),
            UploadFormat::kPprof);
  EXPECT_EQ(*DetectUploadFormat("f", Slurp(Testdata("pprof/go_heap_uncompressed.pb"))),
            UploadFormat::kPprof);
  EXPECT_EQ(*DetectUploadFormat("f", Slurp(Testdata("folded/java_kafka_cpu.folded"))),
            UploadFormat::kFolded);
  EXPECT_EQ(*DetectUploadFormat("f", Slurp(Testdata("jfr/kafka_cpu.jfr.gz"))), UploadFormat::kJfr);
  EXPECT_EQ(*DetectUploadFormat("f", Slurp(Testdata("speedscope/simple.speedscope.json"))),
            UploadFormat::kSpeedscope);
}

TEST(UploadSource, CollectsDirectoriesRecursivelySkippingHiddenEntries) {
  const fs::path root =
      fs::temp_directory_path() / ("embers_upload_src_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "b" / "deep");
  fs::create_directories(root / ".hidden");
  std::ofstream(root / "a.folded") << "x 1\n";
  std::ofstream(root / "b" / "deep" / "c.folded") << "y 2\n";
  std::ofstream(root / ".hidden" / "d.folded") << "z 3\n";
  std::ofstream(root / ".e") << "z 3\n";
  auto files = CollectUploadFiles({root.string()});
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, (root / "a.folded").string());
  EXPECT_EQ((*files)[0].size, 4u);
  EXPECT_EQ((*files)[1].path, (root / "b" / "deep" / "c.folded").string());
  auto missing = CollectUploadFiles({(root / "nope").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no such file"), std::string_view::npos);
  fs::remove_all(root);
}

TEST(UploadSource, ApplicationName) {
  EXPECT_EQ(*IngestApplicationName("api", {}), "api");
  EXPECT_EQ(*IngestApplicationName("api", {"env=prod", "region=eu"}), "api{env=prod,region=eu}");
  EXPECT_FALSE(IngestApplicationName("api", {"oops"}).ok());
  EXPECT_FALSE(IngestApplicationName("", {}).ok());
}

TEST(UploadSource, ParseFormat) {
  EXPECT_EQ(*ParseUploadFormat("collapsed"), UploadFormat::kFolded);
  EXPECT_FALSE(ParseUploadFormat("xml").ok());
}

}  // namespace
}  // namespace embers::cli
