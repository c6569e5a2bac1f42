#include "cmd/cli/table_output.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "nlohmann/json.hpp"

namespace embers::cli {
namespace {

std::string CellText(const Table::Cell& cell) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
  if (const auto* i = std::get_if<int64_t>(&cell)) return StrCat(*i);
  const double d = std::get<double>(cell);
  // Totals come back as doubles (SelectSeries): print whole numbers whole.
  if (d == std::trunc(d) && std::abs(d) < 9.007199254740992e15) {
    return StrCat(static_cast<int64_t>(d));
  }
  return absl::StrFormat("%.10g", d);
}

// RFC 4180: quote a field holding a comma, quote, CR or LF, doubling its quotes.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  return absl::InvalidArgumentError(
      StrCat("unknown output format \"", name, "\" (table, json or csv)"));
}

nlohmann::json Table::ToJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : rows_) {
    nlohmann::json object = nlohmann::json::object();
    for (size_t c = 0; c < columns_.size() && c < row.size(); ++c) {
      std::visit([&](const auto& v) { object[columns_[c]] = v; }, row[c]);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

void RenderSections(const std::vector<TableSection>& sections, OutputFormat format,
                    std::ostream& out) {
  if (format == OutputFormat::kJson) {
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [title, table] : sections) doc[title] = table.ToJson();
    out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  bool first = true;
  for (const auto& [title, table] : sections) {
    if (!first) out << (format == OutputFormat::kCsv ? "\r\n" : "\n");
    first = false;
    out << (format == OutputFormat::kCsv ? "# " : "== ") << title
        << (format == OutputFormat::kCsv ? "\r\n" : " ==\n");
    table.Render(format, out);
  }
}

void Table::Render(OutputFormat format, std::ostream& out) const {
  switch (format) {
    case OutputFormat::kJson: {
      const nlohmann::json rows = ToJson();
      out << rows.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    case OutputFormat::kCsv: {
      for (size_t c = 0; c < columns_.size(); ++c) out << (c ? "," : "") << CsvField(columns_[c]);
      out << "\r\n";
      for (const auto& row : rows_) {
        for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << CsvField(CellText(row[c]));
        out << "\r\n";
      }
      return;
    }
    case OutputFormat::kTable: {
      std::vector<size_t> width(columns_.size());
      for (size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].size();
      std::vector<std::vector<std::string>> text;
      text.reserve(rows_.size());
      for (const auto& row : rows_) {
        auto& line = text.emplace_back();
        for (size_t c = 0; c < row.size() && c < columns_.size(); ++c) {
          line.push_back(CellText(row[c]));
          width[c] = std::max(width[c], line.back().size());
        }
      }
      auto emit = [&](const std::vector<std::string>& cells, const std::vector<Cell>* row) {
        std::string line;
        for (size_t c = 0; c < cells.size(); ++c) {
          // Numbers and percentages line up on the right.
          const bool numeric = row && (!std::holds_alternative<std::string>((*row)[c]) ||
                                       (!cells[c].empty() && cells[c].back() == '%'));
          const size_t pad = width[c] - cells[c].size();
          const bool last = c + 1 == cells.size();
          if (numeric) line.append(pad, ' ');
          line += cells[c];
          if (!numeric && !last) line.append(pad, ' ');
          if (!last) line += "  ";
        }
        out << line << "\n";
      };
      emit(columns_, nullptr);
      for (size_t r = 0; r < rows_.size(); ++r) emit(text[r], &rows_[r]);
      return;
    }
  }
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return StrCat(bytes, " B");
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

}  // namespace embers::cli
