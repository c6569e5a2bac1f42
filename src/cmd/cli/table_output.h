// Table: rows of cells that a command prints, rendered as an aligned text table, JSON (an array of
// objects keyed by column name) or CSV (RFC 4180), per --output. Commands build one Table and let
// CliContext::Print render it, so every command supports the three formats the same way.
#ifndef EMBERS_CMD_CLI_TABLE_OUTPUT_H_
#define EMBERS_CMD_CLI_TABLE_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace embers::cli {

enum class OutputFormat { kTable, kJson, kCsv };

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

class Table {
 public:
  // A cell: text, or a number (right-aligned in a table, unquoted in JSON).
  using Cell = std::variant<std::string, int64_t, double>;

  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  // `row` has one cell per column.
  void AddRow(std::vector<Cell> row) { rows_.push_back(std::move(row)); }

  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::vector<Cell>>& rows() const { return rows_; }
  size_t size() const { return rows_.size(); }

  void Render(OutputFormat format, std::ostream& out) const;
  // An array of objects keyed by column name (what --output json prints).
  nlohmann::json ToJson() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// Several titled tables as one document: headed tables (table), one JSON object keyed by title
// (json), or CSV blocks each under a "# title" line (csv). For commands that report more than
// one kind of row (`admin status`, `bucket inspect`).
using TableSection = std::pair<std::string, Table>;
void RenderSections(const std::vector<TableSection>& sections, OutputFormat format,
                    std::ostream& out);

// "12.3 MiB", "512 B".
std::string FormatBytes(uint64_t bytes);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_TABLE_OUTPUT_H_
