#include "providers/sources/log_session_source.h"

#include <algorithm>
#include <optional>

#include "latency/latency_window.h"
#include "latency/router_line.h"
#include "providers/sources/router_log_common.h"

namespace dynoherd::providers::sources {

std::map<std::string, model::FormationLatency> LogSessionSource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    TimePoint now) {
  Result<heroku::LogSession> session = client_.CreateLogSession(app_, options_.request);
  if (!session.ok()) {
    return AllFailed(formations, "cannot open a log session: " + session.status().message());
  }

  // One window per distinct latency.window, keeping everything the read offers (no buckets to
  // expire: the session is read once), fed only the lines inside that window. Usually one.
  std::map<Duration, latency::LatencyWindow> windows;
  for (const auto* f : formations) {
    if (!f->latency || windows.count(f->latency->window)) continue;
    latency::WindowOptions unbounded;
    unbounded.window = Duration::zero();
    unbounded.bucket_count = 1;
    windows.emplace(f->latency->window,
                    std::move(latency::LatencyWindow::Create(unbounded)).value());
  }

  latency::RouterLineParser parser;
  latency::RouterLine line;
  RouterLineTally tally(count_lines_);
  int64_t router_lines = 0;
  std::optional<TimePoint> oldest;
  Result<heroku::LogReadSummary> read =
      client_.ReadLogSession(*session, options_.limits, [&](std::string_view text) {
        const latency::LineKind kind = parser.ParseLine(text, line);
        tally.Count(kind);
        if (kind != latency::LineKind::kRouter) return true;
        ++router_lines;
        const TimePoint at = line.timestamp.value_or(now);
        if (!oldest || at < *oldest) oldest = at;
        for (auto& [window, w] : windows) {
          if (at >= now - window) w.Add(line, now);
        }
        return true;
      });
  tally.Flush();
  if (!read.ok()) {
    return AllFailed(formations, "cannot read the log session: " + read.status().message());
  }

  const Duration widest = WidestWindow(formations);
  if (read->lines >= options_.request.lines && oldest && *oldest > now - widest) {
    // Heroku keeps the newest 1500 lines: on a busy app they reach back less than the window.
    // A warning, so `plan` (which logs warnings only) shows it too.
    logger_.Warn("log session covers only part of the latency window",
                 {{"app", app_},
                  {"covered", FormatDuration(SecondsBetween(*oldest, now))},
                  {"window", FormatDuration(widest)},
                  {"lines", read->lines},
                  {"hint", "via: drain sees every request of the window"}});
  }
  const std::string context = "the log session had " + std::to_string(router_lines) +
                              " router lines (" + std::to_string(read->lines) + " lines)";
  return ReadFormations(
      formations, app,
      [&](const spec::FormationSpec& f, const std::vector<std::string>& dynos) {
        model::FormationLatency latency =
            windows.at(f.latency->window).Formation(f.type, f.latency->statistic, now, dynos);
        if (!latency.value && !dynos.empty()) {
          latency.unknown_reason += " in the last " + FormatDuration(f.latency->window);
        }
        if (latency.value && oldest) {
          // The session's lines reach back to `oldest` (Heroku keeps the newest 1500): the
          // load is their rate over what they cover.
          latency.load = model::LoadOf(latency.per_dyno,
                                       std::min(f.latency->window, SecondsBetween(*oldest, now)));
        }
        return latency;
      },
      context);
}

}  // namespace dynoherd::providers::sources
