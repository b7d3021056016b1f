#include "chart/scale.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

namespace dynoherd::chart {
namespace {

// No axis needs more; a bound keeps degenerate inputs (a tiny step over a huge value) cheap.
constexpr int kMaxTicks = 500;

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::string TwoDigits(int value) {
  return std::string(1, static_cast<char>('0' + value / 10)) + static_cast<char>('0' + value % 10);
}

std::chrono::year_month_day CivilDate(int64_t local_seconds) {
  return std::chrono::year_month_day(
      std::chrono::sys_days(std::chrono::days(FloorDiv(local_seconds, 86400))));
}

std::string IsoDate(int64_t local_seconds) {
  const auto date = CivilDate(local_seconds);
  const int year = static_cast<int>(date.year());
  return std::to_string(year) + "-" + TwoDigits(static_cast<int>(unsigned(date.month()))) + "-" +
         TwoDigits(static_cast<int>(unsigned(date.day())));
}

std::string ShortDate(int64_t local_seconds) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto date = CivilDate(local_seconds);
  return std::string(kMonths[unsigned(date.month()) - 1]) + " " +
         std::to_string(unsigned(date.day()));
}

std::string ClockTime(int64_t local_seconds, bool with_seconds) {
  const int64_t of_day = local_seconds - FloorDiv(local_seconds, 86400) * 86400;
  std::string text = TwoDigits(static_cast<int>(of_day / 3600)) + ":" +
                     TwoDigits(static_cast<int>(of_day / 60 % 60));
  // ':', not ":": GCC 12 -O3 reports a false -Wrestrict on "literal" + string.
  if (with_seconds) text += ':' + TwoDigits(static_cast<int>(of_day % 60));
  return text;
}

}  // namespace

Scale Scale::Linear(double lo, double hi, double range_from, double range_to) {
  return Scale(ScaleKind::kLinear, lo, hi, range_from, range_to);
}

Scale Scale::Log(double lo, double hi, double range_from, double range_to) {
  return Scale(ScaleKind::kLog, lo, hi, range_from, range_to);
}

double Scale::Transform(double value) const {
  return kind_ == ScaleKind::kLog ? std::log10(value) : value;
}

double Scale::Map(double value) const {
  if (kind_ == ScaleKind::kLog && value <= 0) return range_from_;
  const double share = (Transform(value) - Transform(lo_)) / (Transform(hi_) - Transform(lo_));
  return range_from_ + share * (range_to_ - range_from_);
}

double Scale::Invert(double pixel) const {
  const double share = (pixel - range_from_) / (range_to_ - range_from_);
  const double transformed = Transform(lo_) + share * (Transform(hi_) - Transform(lo_));
  return kind_ == ScaleKind::kLog ? std::pow(10.0, transformed) : transformed;
}

double NiceStep(double span, int target_count) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / std::max(1, target_count);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double mantissa = raw / power;
  // Thresholds at the geometric means of neighbouring steps: sqrt(1*2), sqrt(2*5), sqrt(5*10).
  if (mantissa < std::sqrt(2.0)) return power;
  if (mantissa < std::sqrt(10.0)) return 2 * power;
  if (mantissa < std::sqrt(50.0)) return 5 * power;
  return 10 * power;
}

Ticks LinearTicks(double lo, double hi, int target_count, bool integers) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo = lo == 0 ? 0 : lo - pad;
    hi += pad;
  }
  double step = NiceStep(hi - lo, target_count);
  if (integers) step = std::max(step, 1.0);
  // The epsilon keeps a bound that is a multiple of the step up to rounding from growing a tick.
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  Ticks ticks;
  ticks.step = step;
  for (double k = first; k <= last && ticks.values.size() < kMaxTicks; ++k) {
    ticks.values.push_back(k * step);
  }
  ticks.lo = ticks.values.front();
  ticks.hi = ticks.values.back();
  if (ticks.hi <= ticks.lo) ticks.hi = ticks.lo + step;  // a precision floor: keep a real range
  return ticks;
}

Ticks LogTicks(double lo, double hi, int target_count) {
  if (!(lo > 0) || !std::isfinite(lo)) lo = 1;
  if (!(hi > lo) || !std::isfinite(hi)) hi = lo * 10;
  int first = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int last = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (last <= first) last = first + 1;
  const int decades = last - first;
  Ticks ticks;
  if (decades <= 2) {
    for (int e = first; e < last; ++e) {
      for (const double m : {1.0, 2.0, 5.0})
        ticks.values.push_back(m * std::pow(10.0, e));
    }
    ticks.values.push_back(std::pow(10.0, last));
  } else {
    const int every =
        std::max(1, (decades + std::max(1, target_count) - 1) / std::max(1, target_count));
    last = first + (decades + every - 1) / every * every;
    for (int e = first; e <= last; e += every)
      ticks.values.push_back(std::pow(10.0, e));
  }
  ticks.lo = std::pow(10.0, first);
  ticks.hi = std::pow(10.0, last);
  return ticks;
}

BandScale::BandScale(std::size_t count, double range_from, double range_to, double padding)
    : range_from_(range_from),
      step_(count == 0 ? 0 : (range_to - range_from) / static_cast<double>(count)),
      bar_width_(step_ * (1 - std::clamp(padding, 0.0, 0.95))) {}

double BandScale::Start(std::size_t index) const {
  return range_from_ + static_cast<double>(index) * step_ + (step_ - bar_width_) / 2;
}

double BandScale::Center(std::size_t index) const {
  return Start(index) + bar_width_ / 2;
}

std::chrono::seconds TimeTickStep(std::chrono::nanoseconds span, int target_count) {
  static constexpr std::array<int64_t, 20> kSteps = {
      1,   2,    5,    10,   15,    30,    60,    120,   300,    600,
      900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800};
  const double seconds = std::max(0.0, ToSeconds(span));
  const double target = std::max(1, target_count);
  for (const int64_t step : kSteps) {
    if (seconds / static_cast<double>(step) <= target) return std::chrono::seconds(step);
  }
  // Beyond a week per interval: whole days at 1-2-5 steps (10, 20, 50, ... days).
  const double days = seconds / 86400 / target;
  const double power = std::pow(10.0, std::floor(std::log10(days)));
  for (const double mantissa : {1.0, 2.0, 5.0, 10.0}) {
    if (mantissa * power >= days) {
      return std::chrono::seconds(static_cast<int64_t>(std::ceil(mantissa * power)) * 86400);
    }
  }
  return std::chrono::seconds(static_cast<int64_t>(std::ceil(days)) * 86400);
}

TimeTicks MakeTimeTicks(TimePoint from, TimePoint to, int target_count,
                        std::chrono::minutes utc_offset) {
  using std::chrono::seconds;
  if (to < from) std::swap(from, to);
  TimeTicks result;
  result.step = TimeTickStep(to - from, target_count);
  const int64_t step = result.step.count();
  const int64_t offset = std::chrono::duration_cast<seconds>(utc_offset).count();
  const int64_t local_from = std::chrono::ceil<seconds>(from.time_since_epoch()).count() + offset;
  const int64_t local_to = std::chrono::floor<seconds>(to.time_since_epoch()).count() + offset;
  // Weeks start on Monday; 1970-01-01 was a Thursday, so Mondays are 4 days past the epoch.
  const int64_t anchor = step == 604800 ? 4 * 86400 : 0;
  int64_t local = FloorDiv(local_from - anchor + step - 1, step) * step + anchor;
  for (; local <= local_to && result.ticks.size() < kMaxTicks; local += step) {
    TimeTick tick;
    tick.at = TimePoint(seconds(local - offset));
    tick.day_start = FloorDiv(local, 86400) * 86400 == local;
    if (tick.day_start || step >= 86400) {
      tick.label = ShortDate(local);
    } else {
      tick.label = ClockTime(local, step < 60);
    }
    result.ticks.push_back(std::move(tick));
  }
  const int64_t first_day = std::chrono::floor<seconds>(from.time_since_epoch()).count() + offset;
  const std::string first_date = IsoDate(first_day);
  const std::string last_date = IsoDate(local_to);
  result.caption = (first_date == last_date ? first_date : first_date + " to " + last_date) + ", " +
                   ZoneName(utc_offset);
  return result;
}

std::string FormatClock(TimePoint t, std::chrono::minutes utc_offset) {
  const int64_t local = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count() +
                        std::chrono::duration_cast<std::chrono::seconds>(utc_offset).count();
  return ClockTime(local, true);
}

std::string ZoneName(std::chrono::minutes utc_offset) {
  const int64_t minutes = utc_offset.count();
  if (minutes == 0) return "UTC";
  const int64_t magnitude = minutes < 0 ? -minutes : minutes;
  return std::string("UTC") + (minutes < 0 ? "-" : "+") +
         TwoDigits(static_cast<int>(magnitude / 60)) + ":" +
         TwoDigits(static_cast<int>(magnitude % 60));
}

}  // namespace dynoherd::chart
