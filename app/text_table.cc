#include "app/text_table.h"

#include <algorithm>

namespace dynoherd::app {

namespace {

// Display width: UTF-8 continuation bytes take no column, so a non-ASCII name stays aligned.
size_t Width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render(std::string_view indent) const {
  std::vector<size_t> widths(columns_.size(), 0);
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = Width(columns_[c].header);
    for (const auto& row : rows_)
      widths[c] = std::max(widths[c], Width(row[c]));
  }
  std::string out;
  auto line = [&](auto cell_at) {
    std::string text(indent);
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_at(c);
      const size_t pad = widths[c] - Width(cell);
      const bool last = c + 1 == columns_.size();
      if (columns_[c].align == Align::kRight) {
        text.append(pad, ' ');
        text += cell;
      } else {
        text += cell;
        if (!last) text.append(pad, ' ');
      }
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out += text;
    out += '\n';
  };
  line([&](size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_)
    line([&](size_t c) -> const std::string& { return row[c]; });
  return out;
}

}  // namespace dynoherd::app
