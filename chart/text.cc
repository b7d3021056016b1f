#include "chart/text.h"

#include <optional>

namespace dynoherd::chart {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 1;  // bytes consumed
  bool valid = false;
};

// Decodes the code point at text[pos]. Overlong forms, surrogates and values past U+10FFFF are
// invalid, as are truncated sequences; an invalid sequence consumes one byte.
CodePoint Decode(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {lead, 1, true};
  // The lead byte says the length; the smallest value of each length rules out overlong forms.
  const std::size_t length = (lead & 0xE0) == 0xC0   ? 2
                             : (lead & 0xF0) == 0xE0 ? 3
                             : (lead & 0xF8) == 0xF0 ? 4
                                                     : 0;
  if (length == 0) return {};
  constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  char32_t value = lead & (0x7F >> length);
  if (pos + length > text.size()) return {};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) return {};
    value = (value << 6) | (next & 0x3F);
  }
  if (value < kMinimum[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {};
  return {value, length, true};
}

// Width of one code point in units of the font size, by the shape of DejaVu/Liberation Sans.
double CharWidth(char32_t c) {
  if (c == ' ' || c == 'i' || c == 'j' || c == 'l' || c == '.' || c == ',' || c == ':' ||
      c == ';' || c == '|' || c == '!' || c == '\'' || c == 'I') {
    return 0.32;
  }
  if (c == 'f' || c == 't' || c == 'r' || c == '(' || c == ')' || c == '[' || c == ']' ||
      c == '-' || c == '/') {
    return 0.42;
  }
  if (c == 'm' || c == 'w' || c == 'M' || c == 'W' || c == '@' || c == '%') return 0.9;
  if (c >= 'A' && c <= 'Z') return 0.7;
  if (c < 0x80) return 0.6;
  if (c >= 0x2E80) return 1.0;  // CJK and beyond: full width
  return 0.65;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const CodePoint cp = Decode(text, pos);
    if (!cp.valid) {
      out += kReplacement;
    } else if (cp.value < 0x20 && cp.value != '\t' && cp.value != '\n' && cp.value != '\r') {
      // dropped: not allowed in XML
    } else {
      switch (cp.value) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out.append(text.substr(pos, cp.length));
      }
    }
    pos += cp.length;
  }
  return out;
}

std::string CssClass(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_') {
      out += c;
    }
  }
  return out;
}

std::size_t CountCodePoints(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < text.size(); pos += Decode(text, pos).length)
    ++count;
  return count;
}

double TextWidth(std::string_view text, double font_px) {
  double width = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const CodePoint cp = Decode(text, pos);
    width += CharWidth(cp.valid ? cp.value : 0xFFFD);
    pos += cp.length;
  }
  return width * font_px;
}

std::string Ellipsize(std::string_view text, double max_px, double font_px) {
  if (TextWidth(text, font_px) <= max_px) return std::string(text);
  const double budget = max_px - TextWidth(kEllipsis, font_px);
  if (budget < 0) return "";
  double width = 0;
  std::size_t keep = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const CodePoint cp = Decode(text, pos);
    width += CharWidth(cp.valid ? cp.value : 0xFFFD) * font_px;
    if (width > budget) break;
    pos += cp.length;
    keep = pos;
  }
  // Trailing spaces before the ellipsis read as a mistake.
  while (keep > 0 && text[keep - 1] == ' ')
    --keep;
  return std::string(text.substr(0, keep)) + std::string(kEllipsis);
}

}  // namespace dynoherd::chart
