#include "cmd/cli/table_output.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nlohmann/json.hpp"

namespace embers::cli {
namespace {

Table Sample() {
  Table t({"name", "count", "share"});
  t.AddRow({std::string("alpha"), int64_t{12}, 0.5});
  t.AddRow({std::string("b, \"quoted\""), int64_t{3}, 0.25});
  return t;
}

std::string Render(const Table& t, OutputFormat f) {
  std::ostringstream out;
  t.Render(f, out);
  return out.str();
}

TEST(TableOutput, TextAlignsColumnsAndRightAlignsNumbers) {
  EXPECT_EQ(Render(Sample(), OutputFormat::kTable),
            "name         count  share\n"
            "alpha           12    0.5\n"
            "b, \"quoted\"      3   0.25\n");
}

TEST(TableOutput, JsonIsAnArrayOfObjects) {
  auto j = nlohmann::json::parse(Render(Sample(), OutputFormat::kJson));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "alpha");
  EXPECT_EQ(j[0]["count"], 12);
  EXPECT_DOUBLE_EQ(j[1]["share"].get<double>(), 0.25);
}

TEST(TableOutput, CsvQuotesFieldsAsRfc4180) {
  EXPECT_EQ(Render(Sample(), OutputFormat::kCsv),
            "name,count,share\r\nalpha,12,0.5\r\n\"b, \"\"quoted\"\"\",3,0.25\r\n");
}

TEST(TableOutput, SectionsInJsonAreOneObject) {
  std::ostringstream out;
  RenderSections({{"first", Sample()}, {"second", Table({"x"})}}, OutputFormat::kJson, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["first"].size(), 2u);
  EXPECT_TRUE(j["second"].empty());
}

TEST(TableOutput, ParseOutputFormat) {
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_FALSE(ParseOutputFormat("yaml").ok());
}

TEST(TableOutput, FormatBytes) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(3ull << 30), "3.0 GiB");
}

}  // namespace
}  // namespace embers::cli
