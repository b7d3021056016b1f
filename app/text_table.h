// Aligned columns for the tables people read (simulation summaries, `status`, `analyze`). Cells are
// plain text; numbers read best right-aligned. The last column is never padded, so lines carry no
// trailing spaces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dynoherd::app {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // Missing cells are empty; extra cells are an error of the caller and are dropped.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The header and every row, each line starting with `indent` and ending in '\n'.
  std::string Render(std::string_view indent = "  ") const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace dynoherd::app
