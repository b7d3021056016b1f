#include "chart/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

namespace dynoherd::chart {
namespace {

struct Unit {
  double divisor = 1;
  std::string_view suffix;
};

Unit NumberUnit(double magnitude) {
  if (magnitude >= 1e12) return {1e12, "T"};
  if (magnitude >= 1e9) return {1e9, "G"};
  if (magnitude >= 1e6) return {1e6, "M"};
  if (magnitude >= 1e4) return {1e3, "k"};
  return {1, ""};
}

Unit SecondsUnit(double magnitude) {
  return magnitude < 1 ? Unit{1e-3, "ms"} : Unit{1, "s"};
}

// The fewest decimals (up to 9) that write `step` exactly enough to tell ticks apart.
int DecimalsFor(double step) {
  for (int decimals = 0; decimals < 9; ++decimals) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return decimals;
  }
  return 9;
}

std::string TrimZeros(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0')
    text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// Three significant digits, trailing zeros dropped.
std::string Significant3(double value) {
  if (value == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::abs(value))));
  return TrimZeros(FormatFixed(value, std::clamp(2 - magnitude, 0, 9)));
}

}  // namespace

std::string FormatFixed(double value, int decimals) {
  if (!std::isfinite(value)) return std::isnan(value) ? "NaN" : (value > 0 ? "inf" : "-inf");
  char buffer[400];  // fixed notation of the largest double has 309 digits
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed, decimals);
  std::string text(buffer, result.ptr);
  if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

std::string FormatCoordinate(double value) {
  return TrimZeros(FormatFixed(value, 1));
}

std::vector<std::string> LinearTickLabels(std::span<const double> ticks, ValueFormat format) {
  std::vector<std::string> labels;
  if (ticks.empty()) return labels;
  double magnitude = 0;
  for (const double t : ticks)
    magnitude = std::max(magnitude, std::abs(t));
  const Unit unit =
      format == ValueFormat::kSeconds ? SecondsUnit(magnitude) : NumberUnit(magnitude);
  const double step =
      ticks.size() > 1 ? std::abs(ticks[1] - ticks[0]) : std::max(magnitude, unit.divisor);
  const int decimals = DecimalsFor(step / unit.divisor);
  for (const double t : ticks) {
    labels.push_back(t == 0 ? std::string("0")
                            : FormatFixed(t / unit.divisor, decimals) + std::string(unit.suffix));
  }
  return labels;
}

std::string FormatValue(double value, ValueFormat format) {
  if (!std::isfinite(value)) return "n/a";
  if (value == 0) return "0";
  const double magnitude = std::abs(value);
  const Unit unit =
      format == ValueFormat::kSeconds ? SecondsUnit(magnitude) : NumberUnit(magnitude);
  return Significant3(value / unit.divisor) + std::string(unit.suffix);
}

}  // namespace dynoherd::chart
