#include "chart/format.h"

#include <doctest/doctest.h>

#include <limits>
#include <vector>

namespace dynoherd::chart {
namespace {

std::vector<std::string> Labels(std::vector<double> ticks, ValueFormat format) {
  return LinearTickLabels(ticks, format);
}

TEST_CASE("FormatFixed has exactly the decimals asked for and never a negative zero") {
  CHECK(FormatFixed(1.5, 2) == "1.50");
  CHECK(FormatFixed(2.0 / 3.0, 3) == "0.667");
  CHECK(FormatFixed(-0.0001, 2) == "0.00");
  CHECK(FormatFixed(-0.0, 0) == "0");
  CHECK(FormatFixed(-1.26, 1) == "-1.3");
  CHECK(FormatFixed(1e12, 0) == "1000000000000");
}

TEST_CASE("FormatCoordinate: one decimal at most, none when whole") {
  CHECK(FormatCoordinate(12.0) == "12");
  CHECK(FormatCoordinate(12.26) == "12.3");
  CHECK(FormatCoordinate(-0.04) == "0");
  CHECK(FormatCoordinate(-3.0) == "-3");
  CHECK(FormatCoordinate(99.96) == "100");
}

TEST_CASE("Tick labels share one unit and just enough decimals") {
  CHECK(Labels({0, 1, 2, 3}, ValueFormat::kNumber) == std::vector<std::string>{"0", "1", "2", "3"});
  CHECK(Labels({0, 0.05, 0.1, 0.15}, ValueFormat::kNumber) ==
        std::vector<std::string>{"0", "0.05", "0.10", "0.15"});
  CHECK(Labels({-10, -5, 0, 5}, ValueFormat::kNumber) ==
        std::vector<std::string>{"-10", "-5", "0", "5"});
  CHECK(Labels({0, 2000, 4000}, ValueFormat::kNumber) ==
        std::vector<std::string>{"0", "2000", "4000"});
  CHECK(Labels({0, 5000, 10000, 15000}, ValueFormat::kNumber) ==
        std::vector<std::string>{"0", "5k", "10k", "15k"});
  CHECK(Labels({0, 2e11, 4e11, 6e11, 8e11, 1e12}, ValueFormat::kNumber) ==
        std::vector<std::string>{"0", "0.2T", "0.4T", "0.6T", "0.8T", "1.0T"});
  CHECK(Labels({0, 0.05, 0.1, 0.15}, ValueFormat::kSeconds) ==
        std::vector<std::string>{"0", "50ms", "100ms", "150ms"});
  CHECK(Labels({0, 0.5, 1, 1.5}, ValueFormat::kSeconds) ==
        std::vector<std::string>{"0", "0.5s", "1.0s", "1.5s"});
  CHECK(Labels({0.001, 0.0015, 0.002}, ValueFormat::kSeconds) ==
        std::vector<std::string>{"1.0ms", "1.5ms", "2.0ms"});
  CHECK(Labels({7}, ValueFormat::kNumber) == std::vector<std::string>{"7"});
  CHECK(Labels({}, ValueFormat::kNumber).empty());
}

TEST_CASE("FormatValue: three significant digits in the value's own unit") {
  CHECK(FormatValue(0.412, ValueFormat::kSeconds) == "412ms");
  CHECK(FormatValue(0.0412, ValueFormat::kSeconds) == "41.2ms");
  CHECK(FormatValue(2.413, ValueFormat::kSeconds) == "2.41s");
  CHECK(FormatValue(30, ValueFormat::kSeconds) == "30s");
  CHECK(FormatValue(1234567, ValueFormat::kNumber) == "1.23M");
  CHECK(FormatValue(1e12, ValueFormat::kNumber) == "1T");
  CHECK(FormatValue(512, ValueFormat::kNumber) == "512");
  CHECK(FormatValue(0.5, ValueFormat::kNumber) == "0.5");
  CHECK(FormatValue(-2.5, ValueFormat::kNumber) == "-2.5");
  CHECK(FormatValue(0, ValueFormat::kSeconds) == "0");
  CHECK(FormatValue(std::numeric_limits<double>::quiet_NaN(), ValueFormat::kNumber) == "n/a");
}

}  // namespace
}  // namespace dynoherd::chart
