// Numbers as the page shows them. Locale-free (std::to_chars): the same value gives the same
// bytes on every machine, which keeps reports byte-for-byte reproducible.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace dynoherd::chart {

// What a value measures, for its labels.
enum class ValueFormat {
  kNumber,   // 12, 0.5, 25k, 3.2M, 1T
  kSeconds,  // a latency in seconds, shown as 250ms, 1.5s
};

// `value` with exactly `decimals` digits after the point; never "-0".
std::string FormatFixed(double value, int decimals);

// An SVG coordinate: at most one decimal, no trailing ".0" ("12", "12.5", "-3").
std::string FormatCoordinate(double value);

// Labels for evenly spaced linear ticks: one unit for all of them (the one the largest needs) and
// just enough decimals to tell neighbours apart.
std::vector<std::string> LinearTickLabels(std::span<const double> ticks, ValueFormat format);

// A label for one value of its own (log ticks, tooltips): three significant digits at most.
std::string FormatValue(double value, ValueFormat format);

}  // namespace dynoherd::chart
