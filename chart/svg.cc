#include "chart/svg.h"

#include <utility>

#include "chart/format.h"
#include "chart/text.h"

namespace dynoherd::chart {

void SvgWriter::StartTag(std::string_view tag, std::initializer_list<Attr> attrs) {
  out_ += '<';
  out_ += tag;
  for (const Attr& attr : attrs) {
    if (attr.value.empty()) continue;
    out_ += ' ';
    out_ += attr.name;
    out_ += "=\"";
    out_ += Escape(attr.value);
    out_ += '"';
  }
}

void SvgWriter::Open(std::string_view tag, std::initializer_list<Attr> attrs) {
  StartTag(tag, attrs);
  out_ += ">\n";
  open_.emplace_back(tag);
}

void SvgWriter::Close() {
  if (open_.empty()) return;
  out_ += "</" + open_.back() + ">\n";
  open_.pop_back();
}

void SvgWriter::Empty(std::string_view tag, std::initializer_list<Attr> attrs) {
  StartTag(tag, attrs);
  out_ += "/>\n";
}

void SvgWriter::Text(std::string_view tag, std::initializer_list<Attr> attrs,
                     std::string_view text) {
  StartTag(tag, attrs);
  out_ += '>';
  out_ += Escape(text);
  out_ += "</";
  out_ += tag;
  out_ += ">\n";
}

Svg SvgWriter::Finish() {
  while (!open_.empty())
    Close();
  return Svg(std::move(out_));
}

std::string Px(double value) {
  return FormatCoordinate(value);
}

}  // namespace dynoherd::chart
