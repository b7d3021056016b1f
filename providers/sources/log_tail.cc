#include "providers/sources/log_tail.h"

#include <algorithm>
#include <limits>

#include "latency/router_line.h"
#include "providers/sources/router_log_common.h"

namespace dynoherd::providers::sources {

namespace {

// How often the tally is told while a quiet session trickles.
constexpr Duration kTallyFlushInterval = 10s;
// The first Read takes the replayed burst as over once no line came for this long.
constexpr std::chrono::milliseconds kReplayQuiet{200};

}  // namespace

Result<std::unique_ptr<LogTail>> LogTail::Start(heroku::HerokuClient& client, std::string app,
                                                LogTailOptions options, const Clock& clock,
                                                Logger& logger, RouterLineCounter count_lines,
                                                Sleeper* sleeper) {
  if (options.initial_backoff <= Duration::zero() ||
      options.max_backoff < options.initial_backoff) {
    return Status::InvalidArgument(
        "log tail: backoffs must be positive, the maximum not below "
        "the initial one");
  }
  if (options.max_session <= Duration::zero()) {
    return Status::InvalidArgument("log tail: max_session must be positive");
  }
  latency::WindowOptions window_options;
  window_options.window = options.window;
  Result<latency::LatencyWindow> window = latency::LatencyWindow::Create(window_options);
  if (!window.ok()) return window.status().WithContext("log tail of " + app);
  return std::unique_ptr<LogTail>(new LogTail(client, std::move(app), std::move(options),
                                              std::move(window).value(), clock, logger,
                                              std::move(count_lines), sleeper));
}

LogTail::LogTail(heroku::HerokuClient& client, std::string app, LogTailOptions options,
                 latency::LatencyWindow window, const Clock& clock, Logger& logger,
                 RouterLineCounter count_lines, Sleeper* sleeper)
    : client_(client),
      app_(std::move(app)),
      options_(std::move(options)),
      clock_(clock),
      logger_(logger),
      count_lines_(std::move(count_lines)),
      sleeper_(sleeper ? *sleeper : own_sleeper_),
      window_(std::move(window)),
      thread_([this] { Run(); }) {}

LogTail::~LogTail() {
  Stop();
}

void LogTail::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  own_sleeper_.Interrupt();
}

void LogTail::Stop() {
  RequestStop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool LogTail::Wait(Duration d) {
  return sleeper_.Sleep(d) && !stop_.load();
}

void LogTail::Run() {
  logger_.Info("log tail started", {{"app", app_}, {"window", FormatDuration(options_.window)}});
  Duration backoff = options_.initial_backoff;
  while (!stop_.load()) {
    const TimePoint started = clock_.Now();
    Status ended = RunSession();
    const Duration lasted = SecondsBetween(started, clock_.Now());
    const bool healthy = ended.ok() && lasted >= options_.healthy_after;
    if (healthy) backoff = options_.initial_backoff;
    const Duration wait = backoff;
    {
      std::lock_guard lock(mu_);
      ++sessions_ended_;
      if (!stop_.load()) health_.last_backoff = wait;
    }
    cv_.notify_all();
    if (stop_.load()) break;
    LogFields fields = {{"app", app_}, {"lasted", FormatDuration(lasted)}};
    fields.push_back({"reconnectIn", FormatDuration(wait)});
    if (ended.ok()) {
      logger_.Info("log tail ended, reconnecting", fields);
    } else {
      fields.push_back({"error", ended.message()});
      logger_.Warn("log tail failed, reconnecting", fields);
    }
    if (!Wait(wait)) break;
    if (!healthy) backoff = std::min(backoff * 2, options_.max_backoff);
  }
  logger_.Info("log tail stopped", {{"app", app_}});
}

Status LogTail::RunSession() {
  {
    std::lock_guard lock(mu_);
    ++health_.attempts;
  }
  Result<heroku::LogSession> session = client_.CreateLogSession(app_, options_.request);
  std::optional<TimePoint> replayed_until;
  {
    std::lock_guard lock(mu_);
    if (!session.ok()) {
      health_.last_error = session.status().message();
      if (!health_.failing_since) health_.failing_since = clock_.Now();
      return session.status();
    }
    ++health_.sessions_opened;
    health_.connected = true;
    health_.connected_since = clock_.Now();
    health_.failing_since.reset();
    replayed_until = newest_taken_;
  }

  heroku::LogReadLimits limits;
  limits.max_bytes = std::numeric_limits<size_t>::max();
  limits.max_duration = options_.max_session;
  limits.max_line_bytes = options_.max_line_bytes;
  limits.stop = &stop_;
  latency::RouterLineParser parser;
  latency::RouterLine line;
  RouterLineTally tally(count_lines_);
  TimePoint last_flush = clock_.Now();
  Result<heroku::LogReadSummary> read =
      client_.ReadLogSession(*session, limits, [&](std::string_view text) {
        const latency::LineKind kind = parser.ParseLine(text, line);
        const TimePoint now = clock_.Now();
        if (kind == latency::LineKind::kRouter && line.timestamp && replayed_until &&
            *line.timestamp <= *replayed_until) {
          std::lock_guard lock(mu_);
          ++health_.lines_replayed;
          return true;
        }
        tally.Count(kind);
        if (now - last_flush >= kTallyFlushInterval) {
          tally.Flush();
          last_flush = now;
        }
        if (kind != latency::LineKind::kRouter) return true;
        window_.Add(std::span<const latency::RouterLine>(&line, 1), now);
        {
          std::lock_guard lock(mu_);
          ++health_.lines_taken;
          const TimePoint at = line.timestamp.value_or(now);
          if (!newest_taken_ || at > *newest_taken_) newest_taken_ = at;
        }
        cv_.notify_all();
        return true;
      });
  tally.Flush();
  std::lock_guard lock(mu_);
  health_.connected = false;
  health_.connected_since.reset();
  if (!read.ok()) {
    health_.last_error = read.status().message();
    health_.failing_since = clock_.Now();
    return read.status();
  }
  health_.last_error.clear();
  return Status::Ok();
}

std::string LogTail::Describe(TimePoint now) const {
  std::string what = "the log tail of " + app_;
  if (health_.connected && health_.connected_since) {
    return what + " has been open for " +
           FormatDuration(SecondsBetween(*health_.connected_since, now)) + " (" +
           std::to_string(health_.lines_taken) + " router lines taken since dynoherd started)";
  }
  if (!health_.last_error.empty()) return what + " is reconnecting after: " + health_.last_error;
  return what + (health_.attempts == 0 ? " is connecting" : " is reconnecting");
}

std::map<std::string, model::FormationLatency> LogTail::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    TimePoint now) {
  std::string context;
  {
    std::unique_lock lock(mu_);
    if (!first_read_done_ && options_.first_lines_wait.count() > 0) {
      // A new session opens with a burst of replayed lines (up to `lines`); the first line alone
      // is too few to judge a dyno. Wait for the first line, then until the burst goes quiet.
      const auto deadline = std::chrono::steady_clock::now() + options_.first_lines_wait;
      auto settled = [this] { return sessions_ended_ > 0 || stop_.load(); };
      cv_.wait_until(lock, deadline, [&] { return health_.lines_taken > 0 || settled(); });
      for (int64_t seen = -1; health_.lines_taken > seen && !settled() &&
                              std::chrono::steady_clock::now() < deadline;) {
        seen = health_.lines_taken;
        cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + kReplayQuiet),
                       settled);
      }
    }
    first_read_done_ = true;
    context = Describe(now);
    const bool failing = !health_.connected && health_.failing_since &&
                         (health_.sessions_opened == 0 ||
                          now - *health_.failing_since >= options_.failing_after);
    if (failing) return AllFailed(formations, context);
  }
  return ReadFormations(window_, formations, app, now, context);
}

LogTailHealth LogTail::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

bool LogTail::WaitForLines(int64_t lines, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return health_.lines_taken >= lines || stop_.load();
  }) && health_.lines_taken >= lines;
}

bool LogTail::WaitForSessionsEnded(int64_t sessions, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return sessions_ended_ >= sessions || stop_.load(); }) &&
         sessions_ended_ >= sessions;
}

std::shared_ptr<LogTail> LogTailRegistry::Acquire(const std::string& app, Duration window,
                                                  const Maker& make) {
  std::lock_guard lock(mu_);
  std::erase_if(tails_, [](const auto& entry) { return entry.second.expired(); });
  // The widest live tail of the app, so that policies converge on one tail after reloads.
  std::shared_ptr<LogTail> widest;
  for (const auto& [name, weak] : tails_) {
    if (name != app) continue;
    std::shared_ptr<LogTail> live = weak.lock();
    if (live && (!widest || live->window() > widest->window())) widest = std::move(live);
  }
  if (widest && widest->window() >= window) return widest;
  std::shared_ptr<LogTail> tail = make(window);
  if (tail) tails_.emplace_back(app, tail);
  return tail;
}

std::vector<std::shared_ptr<LogTail>> LogTailRegistry::Live() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LogTail>> live;
  for (const auto& [name, weak] : tails_) {
    if (auto tail = weak.lock()) live.push_back(std::move(tail));
  }
  return live;
}

void LogTailRegistry::RequestStopAll() {
  for (const auto& tail : Live())
    tail->RequestStop();
}

void LogTailRegistry::StopAll() {
  for (const auto& tail : Live())
    tail->Stop();
}

}  // namespace dynoherd::providers::sources
