// Scales map data to pixels; ticks say where an axis gets its lines and labels.
//
// Time zones: the chart module knows fixed UTC offsets only. Labels are written in UTC plus the
// caller's `utc_offset`, the axis caption names it ("UTC", "UTC+02:00"), and ticks align to that
// local clock (midnight, whole hours). There is no time zone database and no daylight saving: the
// caller that wants a named zone resolves it to an offset for the report's time (that is I/O), and
// the same inputs always give the same labels, whatever the machine's TZ.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/time.h"

namespace dynoherd::chart {

enum class ScaleKind {
  kLinear,
  // Base 10: latencies span orders of magnitude as soon as something goes wrong (a 40 ms median
  // beside a 20 s stuck dyno), which flattens everything but the outlier on a linear axis.
  kLog,
};

// Maps the domain [lo, hi] onto [range_from, range_to]; the range may run backwards (SVG's y grows
// downwards). Values outside the domain extrapolate; callers clamp where they must.
class Scale {
 public:
  // REQUIRES: lo < hi.
  static Scale Linear(double lo, double hi, double range_from, double range_to);
  // REQUIRES: 0 < lo < hi. Map of a value <= 0 gives range_from.
  static Scale Log(double lo, double hi, double range_from, double range_to);

  double Map(double value) const;
  double Invert(double pixel) const;  // Map(Invert(p)) == p, up to rounding

  ScaleKind kind() const { return kind_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double range_from() const { return range_from_; }
  double range_to() const { return range_to_; }

 private:
  Scale(ScaleKind kind, double lo, double hi, double range_from, double range_to)
      : kind_(kind), lo_(lo), hi_(hi), range_from_(range_from), range_to_(range_to) {}
  double Transform(double value) const;

  ScaleKind kind_;
  double lo_;
  double hi_;
  double range_from_;
  double range_to_;
};

// 1, 2 or 5 times a power of ten, the one closest (geometrically) to span / target_count.
double NiceStep(double span, int target_count);

struct Ticks {
  double lo = 0;  // the domain, widened to the outer ticks
  double hi = 1;
  double step = 0;  // linear: between ticks; log: 0
  std::vector<double> values;
};

// About `target_count` intervals at a 1-2-5 step over [lo, hi], widened to multiples of the step.
// lo == hi widens to a range around the value; `integers` keeps the step at 1 or more (counts).
// Non-finite bounds give [0, 1].
Ticks LinearTicks(double lo, double hi, int target_count, bool integers = false);

// Powers of ten covering [lo, hi]; with less than three decades also 2x and 5x. REQUIRES lo > 0.
// When the decades outnumber `target_count`, every second (third, ...) one is labelled.
Ticks LogTicks(double lo, double hi, int target_count);

// Equal bands for categories (dynos): `count` bands over the range, `padding` the share of each
// band left empty between neighbours.
class BandScale {
 public:
  BandScale(std::size_t count, double range_from, double range_to, double padding = 0.3);
  double Start(std::size_t index) const;  // where the drawn part of the band starts
  double Center(std::size_t index) const;
  double Width() const { return bar_width_; }  // the drawn part of a band
  double Step() const { return step_; }        // from one band's start to the next

 private:
  double range_from_;
  double step_;
  double bar_width_;
};

struct TimeTick {
  TimePoint at{};
  std::string label;       // "14:30", "14:30:15", or "Dec 7" at a local midnight and day steps
  bool day_start = false;  // a local midnight: the label is a date
};

struct TimeTicks {
  std::chrono::seconds step{0};
  std::vector<TimeTick> ticks;  // inside [from, to]
  std::string caption;          // the dates shown and the zone: "2026-12-06, UTC+02:00"
};

// The smallest human step (1s, 2s, 5s, 10s, 15s, 30s, 1m, ... 1h, 3h, 6h, 12h, 1d, 2d, 7d, then
// whole days) that cuts `span` into at most `target_count` intervals.
std::chrono::seconds TimeTickStep(std::chrono::nanoseconds span, int target_count);

// Ticks over [from, to] at TimeTickStep, aligned to the clock at `utc_offset` (midnight, whole
// hours, Mondays for weeks), labelled in that clock.
TimeTicks MakeTimeTicks(TimePoint from, TimePoint to, int target_count,
                        std::chrono::minutes utc_offset = std::chrono::minutes(0));

// The time of day of `t` on the clock at `utc_offset`: "14:03:20".
std::string FormatClock(TimePoint t, std::chrono::minutes utc_offset);

// "UTC", "UTC+02:00", "UTC-03:30".
std::string ZoneName(std::chrono::minutes utc_offset);

}  // namespace dynoherd::chart
