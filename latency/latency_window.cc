#include "latency/latency_window.h"

#include <algorithm>
#include <cstring>

#include "latency/dyno_names.h"

namespace dynoherd::latency {
namespace {

// Far below any real bucket index, yet far from overflow when bucket_count is subtracted.
constexpr int64_t kNoIndex = INT64_MIN / 4;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

uint64_t PackCode(std::string_view code) {
  uint64_t packed = 0;
  std::memcpy(&packed, code.data(), std::min<size_t>(code.size(), sizeof packed));
  return packed;
}

std::string UnpackCode(uint64_t packed) {
  if (packed == 0) return "other";
  char bytes[sizeof packed];
  std::memcpy(bytes, &packed, sizeof packed);
  return std::string(bytes, strnlen(bytes, sizeof bytes));
}

// "web.2" before "web.10": digit runs compare as numbers.
bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ei = i, ej = j;
      while (ei < a.size() && digit(a[ei]))
        ++ei;
      while (ej < b.size() && digit(b[ej]))
        ++ej;
      std::string_view na = a.substr(i, ei - i), nb = b.substr(j, ej - j);
      while (na.size() > 1 && na.front() == '0')
        na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0')
        nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

model::LatencyStats StatsOf(const LatencyHistogram& histogram, int64_t errors) {
  model::LatencyStats stats;
  stats.count = static_cast<int64_t>(histogram.count());
  stats.mean = histogram.Mean();
  stats.p50 = histogram.Quantile(0.50);
  stats.p95 = histogram.Quantile(0.95);
  stats.p99 = histogram.Quantile(0.99);
  stats.max = histogram.max();
  stats.errors = errors;
  return stats;
}

}  // namespace

Status Validate(const WindowOptions& options) {
  if (options.window < Duration::zero())
    return Status::InvalidArgument("window must not be negative");
  if (options.bucket_count < 1 || options.bucket_count > 1000) {
    return Status::InvalidArgument("bucket_count must be between 1 and 1000 (got " +
                                   std::to_string(options.bucket_count) + ")");
  }
  if (options.window > Duration::zero() && options.window / options.bucket_count < Duration(1)) {
    return Status::InvalidArgument("window " + FormatDuration(options.window) +
                                   " is too short for " + std::to_string(options.bucket_count) +
                                   " buckets of at least 1ms");
  }
  if (options.max_dynos == 0) return Status::InvalidArgument("max_dynos must be at least 1");
  return Status::Ok();
}

Result<LatencyWindow> LatencyWindow::Create(WindowOptions options) {
  if (Status s = Validate(options); !s.ok()) return s.WithContext("latency window");
  if (options.window == Duration::zero()) options.bucket_count = 1;
  return LatencyWindow(options);
}

LatencyWindow::LatencyWindow(WindowOptions options) : options_(options), newest_index_(kNoIndex) {
  if (options_.window > Duration::zero()) {
    bucket_nanos_ = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.window).count() /
                    options_.bucket_count;
  }
  unattributed_.buckets.resize(static_cast<size_t>(options_.bucket_count));
}

int64_t LatencyWindow::BucketIndex(TimePoint t) const {
  if (bucket_nanos_ == 0) return 0;
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return FloorDiv(nanos, bucket_nanos_);
}

void LatencyWindow::AdvanceTo(int64_t index) {
  newest_index_ = index;
  // Dynos that vanished (restarted under a new name, scaled away) free their memory here.
  const size_t erased = std::erase_if(series_, [&](const auto& entry) {
    return entry.second.newest_index <= index - options_.bucket_count;
  });
  if (erased > 0) lookup_cache_.fill({});
}

LatencyWindow::Series* LatencyWindow::FindOrAdd(std::string_view dyno) {
  uint32_t hash = 2166136261u;  // FNV-1a: dyno names are a few bytes
  for (char c : dyno)
    hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  CachedSeries& cached = lookup_cache_[hash % lookup_cache_.size()];
  if (cached.series != nullptr && cached.name == dyno) return cached.series;
  auto it = series_.find(dyno);
  if (it == series_.end()) {
    if (series_.size() >= options_.max_dynos) return nullptr;
    Series series;
    series.formation = std::string(FormationOfDyno(dyno));
    series.newest_index = kNoIndex;
    series.buckets.resize(static_cast<size_t>(options_.bucket_count));
    it = series_.emplace(std::string(dyno), std::move(series)).first;
  }
  cached = {it->first, &it->second};
  return &it->second;
}

void LatencyWindow::Add(const RouterLine& line, TimePoint fallback_time) {
  std::optional<double> service_seconds;
  if (line.service_ms) service_seconds = *line.service_ms / 1000.0;
  Record(line.dyno, line.timestamp.value_or(fallback_time), service_seconds, line.at_error,
         line.code);
}

void LatencyWindow::Record(std::string_view dyno, TimePoint at,
                           std::optional<double> service_seconds, bool router_error,
                           std::string_view error_code) {
  const int64_t index = BucketIndex(at);
  if (index > newest_index_) {
    AdvanceTo(index);
  } else if (index <= newest_index_ - options_.bucket_count) {
    ++counts_.late;
    return;
  }
  Series* series = dyno.empty() ? &unattributed_ : FindOrAdd(dyno);
  if (series == nullptr) {
    ++counts_.dropped_too_many_dynos;
    return;
  }
  RecordIn(*series, index, service_seconds, router_error, error_code);
  ++counts_.recorded;
}

void LatencyWindow::RecordIn(Series& series, int64_t index, std::optional<double> service_seconds,
                             bool router_error, std::string_view error_code) {
  const int64_t count = options_.bucket_count;
  TimeBucket& bucket = series.buckets[static_cast<size_t>(((index % count) + count) % count)];
  if (!bucket.used || bucket.index != index) {
    // The slot held a bucket that has left the window (Record rejects older samples).
    bucket.used = true;
    bucket.index = index;
    if (bucket.histogram) bucket.histogram->Clear();
    bucket.errors = 0;
    bucket.errors_by_code.clear();
  }
  if (service_seconds) {
    if (!bucket.histogram) bucket.histogram = std::make_unique<LatencyHistogram>();
    bucket.histogram->Record(*service_seconds);
  }
  if (router_error) {
    ++bucket.errors;
    const uint64_t code = PackCode(error_code);
    auto it = std::find_if(bucket.errors_by_code.begin(), bucket.errors_by_code.end(),
                           [&](const auto& entry) { return entry.first == code; });
    if (it == bucket.errors_by_code.end()) {
      bucket.errors_by_code.emplace_back(code, 1);
    } else {
      ++it->second;
    }
  }
  series.newest_index = std::max(series.newest_index, index);
}

void LatencyWindow::Expire(TimePoint now) {
  const int64_t index = BucketIndex(now);
  if (index > newest_index_) AdvanceTo(index);
  // Release the histograms of buckets that left the window; a quiet dyno keeps none.
  auto release = [&](Series& series) {
    for (TimeBucket& bucket : series.buckets) {
      if (bucket.used && !Live(bucket.index, newest_index_, options_.bucket_count)) {
        bucket = TimeBucket{};
      }
    }
  };
  for (auto& [name, series] : series_)
    release(series);
  release(unattributed_);
}

int LatencyWindow::BucketsFor(Duration span) const {
  if (bucket_nanos_ == 0 || span <= Duration::zero() || span >= options_.window) {
    return options_.bucket_count;
  }
  const int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(span).count();
  return static_cast<int>(
      std::clamp<int64_t>((nanos + bucket_nanos_ - 1) / bucket_nanos_, 1, options_.bucket_count));
}

int64_t LatencyWindow::Collect(const Series& series, int64_t now_index, int buckets,
                               LatencyHistogram& histogram,
                               std::vector<std::pair<uint64_t, int64_t>>* errors_by_code) const {
  int64_t errors = 0;
  for (const TimeBucket& bucket : series.buckets) {
    if (!bucket.used || !Live(bucket.index, now_index, buckets)) continue;
    if (bucket.histogram) histogram.Merge(*bucket.histogram);
    errors += bucket.errors;
    if (errors_by_code == nullptr) continue;
    for (const auto& [code_binding, n] : bucket.errors_by_code) {
      const auto& code = code_binding;  // Clang 14 cannot capture a structured binding
      auto it = std::find_if(errors_by_code->begin(), errors_by_code->end(),
                             [&](const auto& entry) { return entry.first == code; });
      if (it == errors_by_code->end()) {
        errors_by_code->emplace_back(code, n);
      } else {
        it->second += n;
      }
    }
  }
  return errors;
}

model::LatencyStats LatencyWindow::DynoStats(std::string_view dyno, TimePoint now) const {
  auto it = series_.find(dyno);
  if (it == series_.end()) return {};
  LatencyHistogram histogram;
  int64_t errors = Collect(it->second, BucketIndex(now), options_.bucket_count, histogram, nullptr);
  return StatsOf(histogram, errors);
}

std::vector<double> LatencyWindow::DynoQuantiles(std::string_view dyno, TimePoint now,
                                                const std::vector<double>& quantiles) const {
  auto it = series_.find(dyno);
  if (it == series_.end()) return {};
  LatencyHistogram histogram;
  Collect(it->second, BucketIndex(now), options_.bucket_count, histogram, nullptr);
  if (histogram.count() == 0) return {};
  std::vector<double> values;
  for (double q : quantiles)
    values.push_back(histogram.Quantile(q));
  return values;
}

DynoReport LatencyWindow::ReportOf(std::string_view dyno, const Series& series,
                                   int64_t now_index) const {
  LatencyHistogram histogram;
  std::vector<std::pair<uint64_t, int64_t>> codes;
  int64_t errors = Collect(series, now_index, options_.bucket_count, histogram, &codes);
  DynoReport report;
  report.dyno = std::string(dyno);
  report.formation = series.formation;
  report.stats = StatsOf(histogram, errors);
  for (const auto& [code, n] : codes)
    report.errors_by_code.emplace_back(UnpackCode(code), n);
  std::sort(report.errors_by_code.begin(), report.errors_by_code.end());
  return report;
}

model::FormationLatency LatencyWindow::Formation(std::string_view formation_type,
                                                 spec::Statistic statistic, TimePoint now,
                                                 Duration span) const {
  std::vector<std::pair<std::string, const Series*>> members;
  for (const auto& [name, series] : series_) {
    if (series.formation == formation_type) members.emplace_back(name, &series);
  }
  return Summarise(formation_type, statistic, BucketIndex(now), span, members);
}

model::FormationLatency LatencyWindow::Formation(std::string_view formation_type,
                                                 spec::Statistic statistic, TimePoint now,
                                                 const std::vector<std::string>& dynos,
                                                 Duration span) const {
  std::vector<std::pair<std::string, const Series*>> members;
  for (const std::string& name : dynos) {
    auto it = series_.find(name);
    members.emplace_back(name, it == series_.end() ? nullptr : &it->second);
  }
  model::FormationLatency latency =
      Summarise(formation_type, statistic, BucketIndex(now), span, members);
  for (const std::string& name : dynos)
    latency.per_dyno.try_emplace(name);
  if (dynos.empty()) latency.unknown_reason = "no dynos listed for " + std::string(formation_type);
  return latency;
}

model::FormationLatency LatencyWindow::Summarise(
    std::string_view formation_type, spec::Statistic statistic, int64_t now_index, Duration span,
    const std::vector<std::pair<std::string, const Series*>>& members) const {
  const int buckets = BucketsFor(span);
  model::FormationLatency latency;
  LatencyHistogram merged;
  int64_t errors = 0;
  for (const auto& [name, series] : members) {
    if (series == nullptr) continue;
    LatencyHistogram histogram;
    int64_t dyno_errors = Collect(*series, now_index, buckets, histogram, nullptr);
    if (histogram.count() == 0 && dyno_errors == 0) continue;
    latency.per_dyno[name] = StatsOf(histogram, dyno_errors);
    merged.Merge(histogram);
    errors += dyno_errors;
  }
  if (merged.count() == 0) {
    std::string where = std::string(formation_type);
    if (options_.window > Duration::zero()) {
      const bool partial = span > Duration::zero() && span < options_.window;
      where += " in the last " + FormatDuration(partial ? span : options_.window);
    }
    latency.unknown_reason = errors > 0 ? "no timed requests for " + where + " (" +
                                              std::to_string(errors) + " router errors)"
                                        : "no router lines for " + where;
    return latency;
  }
  latency.value = StatsOf(merged, errors).Get(statistic);
  latency.sample_count = static_cast<int64_t>(merged.count());
  latency.load = LoadOf(now_index, members);
  if (latency.load && buckets > BucketsFor(model::kLoadSpan)) {
    const auto covered = std::chrono::nanoseconds(bucket_nanos_ * buckets - bucket_nanos_ / 2);
    if (std::optional<model::FormationLoad> whole =
            model::LoadOf(latency.per_dyno, std::chrono::duration_cast<Duration>(covered))) {
      latency.load->window_busy_slots = whole->BusySlots();
    }
  }
  return latency;
}

std::optional<model::FormationLoad> LatencyWindow::LoadOf(
    int64_t now_index, const std::vector<std::pair<std::string, const Series*>>& members) const {
  if (bucket_nanos_ == 0) return std::nullopt;  // an unbounded window has no rate
  const int buckets = BucketsFor(model::kLoadSpan);
  std::map<std::string, model::LatencyStats> per_dyno;
  for (const auto& [name, series] : members) {
    if (series == nullptr) continue;
    LatencyHistogram histogram;
    Collect(*series, now_index, buckets, histogram, nullptr);
    model::LatencyStats& stats = per_dyno[name];
    stats.count = static_cast<int64_t>(histogram.count());
    stats.mean = histogram.Mean();
  }
  // The newest bucket is on average half full: the requests read span buckets - 1/2.
  const auto covered = std::chrono::nanoseconds(bucket_nanos_ * buckets - bucket_nanos_ / 2);
  return model::LoadOf(per_dyno, std::chrono::duration_cast<Duration>(covered));
}

std::vector<std::string> LatencyWindow::FormationTypes(TimePoint now) const {
  std::vector<std::string> types;
  for (const DynoReport& report : Report(now)) {
    if (types.empty() || types.back() != report.formation) types.push_back(report.formation);
  }
  return types;
}

std::vector<DynoReport> LatencyWindow::Report(TimePoint now) const {
  const int64_t now_index = BucketIndex(now);
  std::vector<DynoReport> reports;
  for (const auto& [name, series] : series_) {
    DynoReport report = ReportOf(name, series, now_index);
    if (report.stats.count > 0 || report.stats.errors > 0) reports.push_back(std::move(report));
  }
  std::sort(reports.begin(), reports.end(), [](const DynoReport& a, const DynoReport& b) {
    if (a.formation != b.formation) return a.formation < b.formation;
    return NaturalLess(a.dyno, b.dyno);
  });
  return reports;
}

DynoReport LatencyWindow::Unattributed(TimePoint now) const {
  return ReportOf("", unattributed_, BucketIndex(now));
}

size_t LatencyWindow::dyno_count() const {
  return series_.size();
}

void SharedLatencyWindow::Add(std::span<const RouterLine> lines, TimePoint fallback_time) {
  std::lock_guard lock(mu_);
  for (const RouterLine& line : lines)
    window_.Add(line, fallback_time);
}

model::FormationLatency SharedLatencyWindow::Formation(std::string_view formation_type,
                                                       spec::Statistic statistic, TimePoint now,
                                                       Duration span) {
  std::lock_guard lock(mu_);
  window_.Expire(now);
  return window_.Formation(formation_type, statistic, now, span);
}

model::FormationLatency SharedLatencyWindow::Formation(std::string_view formation_type,
                                                       spec::Statistic statistic, TimePoint now,
                                                       const std::vector<std::string>& dynos,
                                                       Duration span) {
  std::lock_guard lock(mu_);
  window_.Expire(now);
  return window_.Formation(formation_type, statistic, now, dynos, span);
}

}  // namespace dynoherd::latency
