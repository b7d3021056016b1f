// A small writer for SVG markup. It escapes every attribute value and every text it is given, so
// the chart code hands it raw strings and never concatenates markup itself.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynoherd::chart {

// Markup made by SvgWriter, which escaped everything in it, so a Page inserts it as it is. Only the
// writer makes one: no caller's string can pass for a chart.
class Svg {
 public:
  const std::string& markup() const { return markup_; }

 private:
  friend class SvgWriter;
  explicit Svg(std::string markup) : markup_(std::move(markup)) {}
  std::string markup_;
};

struct Attr {
  std::string_view name;  // a literal of the chart code, never user input
  std::string value;      // escaped when written; an empty value leaves the attribute out
};

class SvgWriter {
 public:
  void Open(std::string_view tag, std::initializer_list<Attr> attrs = {});
  void Close();  // the innermost open element
  void Empty(std::string_view tag, std::initializer_list<Attr> attrs);
  void Text(std::string_view tag, std::initializer_list<Attr> attrs, std::string_view text);
  // A <title> child: the browser's tooltip for its parent, and its accessible name.
  void Title(std::string_view text) { Text("title", {}, text); }

  // The markup, with every element still open closed.
  Svg Finish();

 private:
  void StartTag(std::string_view tag, std::initializer_list<Attr> attrs);

  std::string out_;
  std::vector<std::string> open_;
};

// A coordinate or length for an attribute: FormatCoordinate.
std::string Px(double value);

}  // namespace dynoherd::chart
