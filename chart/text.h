// Text on its way to a page: escaping for HTML and inline SVG, and fitting labels into pixels.
// Every string a caller hands the chart module passes through Escape before it is written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dynoherd::chart {

// Safe as HTML text, as an attribute value in either quote kind, and as XML (inline SVG): escapes
// & < > " ', turns invalid UTF-8 into U+FFFD, and drops the control characters XML forbids
// (all below U+0020 but tab, newline and carriage return).
std::string Escape(std::string_view text);

// A CSS class name from anything: keeps ASCII letters, digits, '-' and '_', drops the rest, so a
// caller's name can never end the attribute or inject another.
std::string CssClass(std::string_view name);

// Code points in `text`; each byte of invalid UTF-8 counts as one.
std::size_t CountCodePoints(std::string_view text);

// The width of `text` in the page's sans-serif font at `font_px`, estimated per character class
// (there are no font metrics without I/O). Errs wide, so labels fitted with it do not overlap.
double TextWidth(std::string_view text, double font_px);

// `text` cut at a code point and ended with "…" so that TextWidth <= max_px; `text` itself when it
// fits, "" when not even the ellipsis fits. The result is still unescaped.
std::string Ellipsize(std::string_view text, double max_px, double font_px);

}  // namespace dynoherd::chart
