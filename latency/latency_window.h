// Per-dyno request latency over a sliding window, in memory bounded by the number of dynos rather
// than by the request rate: each dyno keeps `bucket_count` time buckets, each with a count, sum,
// exact max, log-linear histogram and router error counts. Time is whatever the caller passes in:
// the window has no clock. Not thread-safe; SharedLatencyWindow is the locked wrapper.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "latency/histogram.h"
#include "latency/router_line.h"
#include "model/observation.h"
#include "spec/policy.h"

namespace dynoherd::latency {

struct WindowOptions {
  Duration window = std::chrono::minutes(5);  // zero: keep everything (analyze over a whole file)
  // Samples expire bucket by bucket, so the window really covers between
  // window * (bucket_count - 1) / bucket_count and window.
  int bucket_count = 10;
  size_t max_dynos = 1000;  // distinct dyno names kept; samples for more are dropped and counted
};

// Rejects negative windows, bucket counts outside 1..1000, buckets under 1 ms and max_dynos 0.
Status Validate(const WindowOptions& options);

struct WindowCounts {
  int64_t recorded = 0;                // lines taken into the window
  int64_t late = 0;                    // older than the window when they arrived: dropped
  int64_t dropped_too_many_dynos = 0;  // for a dyno beyond max_dynos: dropped
};

// One dyno's window, with the error codes behind LatencyStats::errors.
struct DynoReport {
  std::string dyno;  // empty for router errors that named no dyno
  std::string formation;
  model::LatencyStats stats;
  std::vector<std::pair<std::string, int64_t>> errors_by_code;  // ("H12", 3), by code
};

class LatencyWindow {
 public:
  static Result<LatencyWindow> Create(WindowOptions options);

  // Records a parsed router line at its own timestamp, or at `fallback_time` when it has none.
  // Its service time is a sample when present; at=error counts as a router error of its dyno.
  void Add(const RouterLine& line, TimePoint fallback_time);

  // The same from parts, for sources that are not router lines (the simulator).
  // `dyno` empty: a router error nobody can be blamed for; it shows up in Unattributed().
  void Record(std::string_view dyno, TimePoint at, std::optional<double> service_seconds,
              bool router_error = false, std::string_view error_code = {});

  // Frees what lies before the window ending at `now`, including dynos that have nothing left.
  // Recording also does this as time moves forward; readers call it before a pass.
  void Expire(TimePoint now);

  // Reads cover the window ending at `now` (data stamped after `now` is included).
  model::LatencyStats DynoStats(std::string_view dyno, TimePoint now) const;
  // The dyno's service-time quantiles (each q in [0, 1], from the same histogram as DynoStats),
  // in the order asked; empty when it has no timed request in the window.
  std::vector<double> DynoQuantiles(std::string_view dyno, TimePoint now,
                                    const std::vector<double>& quantiles) const;

  // The formation's dynos (named like it, see FormationOfDyno) with their stats, and `statistic`
  // taken from the merge of their histograms (not an average of per-dyno values). Unknown, with
  // a reason, when none of them has a timed request in the window.
  // `span`: only the last `span` of the window (rounded up to whole buckets), so that one window
  // serves formations whose policies declare shorter windows; zero: the whole window.
  model::FormationLatency Formation(std::string_view formation_type, spec::Statistic statistic,
                                    TimePoint now, Duration span = Duration::zero()) const;
  // The same over exactly these dynos, as the Platform API lists them. Listed dynos without
  // requests appear with count 0; dynos seen in the logs but not listed are left out.
  model::FormationLatency Formation(std::string_view formation_type, spec::Statistic statistic,
                                    TimePoint now, const std::vector<std::string>& dynos,
                                    Duration span = Duration::zero()) const;

  // Formation types with at least one dyno in the window, sorted.
  std::vector<std::string> FormationTypes(TimePoint now) const;
  // Every dyno with data in the window, by formation then dyno (web.2 before web.10).
  std::vector<DynoReport> Report(TimePoint now) const;
  // Router errors whose line named no dyno (H10 on a crashed app, H11, ...).
  DynoReport Unattributed(TimePoint now) const;

  const WindowCounts& counts() const { return counts_; }
  const WindowOptions& options() const { return options_; }
  size_t dyno_count() const;

 private:
  struct TimeBucket {
    int64_t index = 0;  // absolute: floor(time / bucket width)
    bool used = false;
    std::unique_ptr<LatencyHistogram> histogram;  // allocated with the first timed sample
    int64_t errors = 0;
    std::vector<std::pair<uint64_t, int64_t>> errors_by_code;  // packed code ("H12"), count
  };
  struct Series {
    std::string formation;
    int64_t newest_index = 0;
    std::vector<TimeBucket> buckets;  // a ring: bucket i lives at i mod bucket_count
  };
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };

  explicit LatencyWindow(WindowOptions options);

  int64_t BucketIndex(TimePoint t) const;
  void AdvanceTo(int64_t index);
  Series* FindOrAdd(std::string_view dyno);
  void RecordIn(Series& series, int64_t index, std::optional<double> service_seconds,
                bool router_error, std::string_view error_code);
  // Whether a bucket is among the `buckets` newest ones as of `now_index`.
  static bool Live(int64_t bucket_index, int64_t now_index, int buckets) {
    return bucket_index > now_index - buckets;
  }
  // How many of the newest buckets cover `span` (zero: all of them).
  int BucketsFor(Duration span) const;
  // The load over the newest model::kLoadSpan of the window: a rate, so the estimate follows a
  // surge within a minute rather than the window's length.
  std::optional<model::FormationLoad> LoadOf(
      int64_t now_index, const std::vector<std::pair<std::string, const Series*>>& members) const;
  // Merges the series' buckets among the newest `buckets` into `histogram`; returns its errors.
  int64_t Collect(const Series& series, int64_t now_index, int buckets, LatencyHistogram& histogram,
                  std::vector<std::pair<uint64_t, int64_t>>* errors_by_code) const;
  DynoReport ReportOf(std::string_view dyno, const Series& series, int64_t now_index) const;
  model::FormationLatency Summarise(
      std::string_view formation_type, spec::Statistic statistic, int64_t now_index, Duration span,
      const std::vector<std::pair<std::string, const Series*>>& members) const;

  WindowOptions options_;
  int64_t bucket_nanos_ = 0;  // 0: unbounded window, a single bucket forever
  int64_t newest_index_;      // newest bucket recorded into or expired up to
  std::unordered_map<std::string, Series, NameHash, std::equal_to<>> series_;
  // Dynos recently looked up, by a cheap hash of the name: most lines name one of a few dynos,
  // and this spares the map's full hash and probe. Entries point into series_; cleared whenever
  // a series is erased.
  struct CachedSeries {
    std::string_view name;
    Series* series = nullptr;
  };
  std::array<CachedSeries, 64> lookup_cache_{};
  Series unattributed_;
  WindowCounts counts_;
};

// A LatencyWindow behind a mutex, for a window fed by one thread (the drain endpoint, a log
// session) and read by another (the reconcile pass). Batches take the lock once.
class SharedLatencyWindow {
 public:
  explicit SharedLatencyWindow(LatencyWindow window) : window_(std::move(window)) {}

  void Add(std::span<const RouterLine> lines, TimePoint fallback_time);

  // Expires, then reads, under one lock.
  model::FormationLatency Formation(std::string_view formation_type, spec::Statistic statistic,
                                    TimePoint now, Duration span = Duration::zero());
  model::FormationLatency Formation(std::string_view formation_type, spec::Statistic statistic,
                                    TimePoint now, const std::vector<std::string>& dynos,
                                    Duration span = Duration::zero());

  // Anything else, under the lock: `f(LatencyWindow&)`.
  template <typename F>
  decltype(auto) WithLock(F&& f) {
    std::lock_guard lock(mu_);
    return std::forward<F>(f)(window_);
  }

 private:
  std::mutex mu_;
  LatencyWindow window_;
};

}  // namespace dynoherd::latency
