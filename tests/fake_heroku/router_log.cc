#include "tests/fake_heroku/router_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <utility>

namespace dynoherd::fake_heroku {
namespace {

constexpr const char* kPaths[] = {"/items", "/", "/cart", "/api/orders", "/items/42"};

std::string RequestId(std::mt19937_64& rng) {
  char buf[40];
  uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

uint64_t HashName(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

std::string FormatLogTimestamp(TimePoint t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  int64_t frac = micros % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

std::vector<std::string> GenerateRouterLines(const std::string& app,
                                             const std::vector<RouterLogSource>& sources,
                                             TimePoint now, Duration window, uint64_t seed) {
  std::vector<std::pair<TimePoint, std::string>> lines;
  const TimePoint window_start = now - window;
  for (const RouterLogSource& source : sources) {
    const TimePoint from = std::max(window_start, source.up_since);
    if (from >= now) continue;
    // A dyno up for part of the window served that part of its requests.
    const double covered = std::chrono::duration<double>(now - from) / window;
    const int count = static_cast<int>(std::lround(source.profile.count * covered));
    const int h12 = static_cast<int>(std::lround(source.profile.h12 * covered));
    std::mt19937_64 rng(seed ^ HashName(source.dyno));
    std::uniform_int_distribution<int64_t> when(0, (now - from) / std::chrono::microseconds(1) - 1);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::uniform_int_distribution<int> path(0, std::size(kPaths) - 1);
    std::uniform_int_distribution<int> bytes(200, 6000);
    std::uniform_int_distribution<int> connect(0, 2);
    std::uniform_int_distribution<int> fwd(1, 254);
    for (int i = 0; i < count + h12; ++i) {
      const TimePoint at = from + std::chrono::microseconds(when(rng));
      const std::string common = " method=GET path=\"" + std::string(kPaths[path(rng)]) +
                                 "\" host=" + app + ".herokuapp.com request_id=" + RequestId(rng) +
                                 " fwd=\"203.0.113." + std::to_string(fwd(rng)) +
                                 "\" dyno=" + source.dyno;
      std::string line = FormatLogTimestamp(at) + " heroku[router]: ";
      if (i < count) {
        const double service_ms = source.profile.median_ms * source.profile.laggard_factor *
                                  std::exp(source.profile.spread * noise(rng));
        line += "at=info" + common + " connect=" + std::to_string(connect(rng)) +
                "ms service=" + std::to_string(std::max<long>(1, std::lround(service_ms))) +
                "ms status=200 bytes=" + std::to_string(bytes(rng)) + " protocol=https";
      } else {
        line += "at=error code=H12 desc=\"Request timeout\"" + common +
                " connect=" + std::to_string(connect(rng)) +
                "ms service=30001ms status=503 bytes=0 protocol=https";
      }
      lines.emplace_back(at, std::move(line));
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (auto& [at, line] : lines)
    out.push_back(std::move(line));
  return out;
}

}  // namespace dynoherd::fake_heroku
