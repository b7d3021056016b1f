// `router-logs` via `session` in `dynoherd run`: one tailing Heroku log session per app, kept open
// on a background thread and feeding a window that every policy watching the app reads. When the
// session ends or fails, the tail opens a new one after a backoff that doubles up to a bound;
// each attempt costs one API call (opening the session), reading it costs none.
//
// A new session replays up to 1500 recent lines; lines not newer than the newest one already
// taken are skipped, so a reconnect counts no request twice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/sleeper.h"
#include "common/time.h"
#include "latency/latency_window.h"
#include "providers/heroku/heroku_client.h"
#include "providers/latency_source.h"
#include "providers/observer.h"

namespace dynoherd::providers::sources {

struct LogTailOptions {
  Duration window = 5min;  // of the shared window: the widest latency.window of its readers
  heroku::LogSessionRequest request{.tail = true};  // router lines from heroku, 1500, tailing
  // A session is renewed after this long even if it still flows, in case it died silently.
  Duration max_session = 30min;
  Duration initial_backoff = 1s;  // before reconnecting after a session ended or failed
  Duration max_backoff = 5min;    // the backoff doubles up to this
  Duration healthy_after = 1min;  // a session that lasted this long resets the backoff
  // A tail that never opened a session, or has been failing to for this long, cannot observe:
  // its formations' latency is an error (FormationLatency::error), not merely unknown. Shorter
  // failures are reconnects the window rides through.
  Duration failing_after = 1min;
  size_t max_line_bytes = 16u << 10;
  // How long, at most, the first Read waits (real time) for the first session to deliver its
  // replayed lines (until they stop coming for 200 ms) or fail, so the first pass after a start
  // sees them. Zero: no wait.
  std::chrono::milliseconds first_lines_wait{5000};
};

// What the tail is doing, for unknown reasons, logs and tests.
struct LogTailHealth {
  int64_t sessions_opened = 0;  // successful CreateLogSession calls
  int64_t attempts = 0;         // CreateLogSession calls, failed ones included
  int64_t lines_taken = 0;      // router lines fed to the window
  int64_t lines_replayed = 0;   // skipped after a reconnect: already taken
  bool connected = false;
  std::optional<TimePoint> connected_since;
  std::string last_error;                // of the last failed attempt or read; empty after success
  std::optional<TimePoint> failing_since;  // the first failure since the last session opened
  std::optional<Duration> last_backoff;  // the last wait before reconnecting
};

class LogTail {
 public:
  // Starts the background thread at once. `sleeper` waits before each reconnect (tests inject a
  // ManualSleeper); null: a SystemSleeper of the tail's own, which RequestStop interrupts.
  // `count_lines` is told of every line read. `client`, `clock`, `logger` and `sleeper` must
  // outlive the tail.
  // Errors: a window the LatencyWindow refuses, backoffs not positive.
  static Result<std::unique_ptr<LogTail>> Start(heroku::HerokuClient& client, std::string app,
                                                LogTailOptions options, const Clock& clock,
                                                Logger& logger, RouterLineCounter count_lines,
                                                Sleeper* sleeper = nullptr);
  ~LogTail();  // Stop()
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  // Asks the thread to end: a wait ends at once, a read within about a second. Does not wait.
  void RequestStop();
  // RequestStop, then waits for the thread. Idempotent.
  void Stop();

  // Each formation's latency over its window ending at `now`; unknown ones say what the tail is
  // doing ("log tail of shop: reconnecting after: ..."). Every formation is an error while the tail
  // is failing (LogTailOptions::failing_after).
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now);

  const std::string& app() const { return app_; }
  Duration window() const { return options_.window; }
  LogTailHealth health() const;

  // Blocks until the tail took at least `lines` router lines in total, stopped, or `timeout`
  // (real time) passed; returns whether the lines arrived. For tests.
  bool WaitForLines(int64_t lines, std::chrono::milliseconds timeout) const;
  // The same for `sessions` sessions (successful or not) having ended.
  bool WaitForSessionsEnded(int64_t sessions, std::chrono::milliseconds timeout) const;

 private:
  LogTail(heroku::HerokuClient& client, std::string app, LogTailOptions options,
          latency::LatencyWindow window, const Clock& clock, Logger& logger,
          RouterLineCounter count_lines, Sleeper* sleeper);
  void Run();
  // One session: open, read until it ends. Returns the error, or OK when it ended normally.
  Status RunSession();
  bool Wait(Duration d);
  std::string Describe(TimePoint now) const;  // REQUIRES: mu_ held

  heroku::HerokuClient& client_;
  const std::string app_;
  const LogTailOptions options_;
  const Clock& clock_;
  Logger& logger_;
  const RouterLineCounter count_lines_;
  SystemSleeper own_sleeper_;
  Sleeper& sleeper_;

  latency::SharedLatencyWindow window_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // lines taken, a session ended, a stop
  LogTailHealth health_;
  int64_t sessions_ended_ = 0;  // attempts that ended, failed ones included
  bool first_read_done_ = false;
  std::optional<TimePoint> newest_taken_;  // timestamp of the newest router line taken
  std::thread thread_;                     // last: starts once everything above is ready
};

// The running tails by app, shared by every policy's source (two policies watching one app share
// one tail). Holds tails weakly: a tail lives while a policy's source holds it, so a reload that
// keeps the app keeps its tail and its window. Thread-safe.
class LogTailRegistry {
 public:
  using Maker = std::function<std::shared_ptr<LogTail>(Duration window)>;

  // The widest live tail of `app` if its window covers `window`, else a new one from
  // `make(window)`, which then serves later callers (a narrower tail keeps serving those that
  // hold it until they are rebuilt).
  std::shared_ptr<LogTail> Acquire(const std::string& app, Duration window, const Maker& make);

  // RequestStop on every live tail (shutdown: reads end, waits are cut short).
  void RequestStopAll();
  // Stop (and join) every live tail: before the client they use goes away.
  void StopAll();

 private:
  std::vector<std::shared_ptr<LogTail>> Live();

  std::mutex mu_;
  // By app; a narrower tail replaced by a wider one stays listed while it lives, so StopAll
  // reaches it too.
  std::vector<std::pair<std::string, std::weak_ptr<LogTail>>> tails_;
};

// The LatencySource of one policy over a shared tail.
class LogTailSource final : public LatencySource {
 public:
  explicit LogTailSource(std::shared_ptr<LogTail> tail) : tail_(std::move(tail)) {}
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override {
    return tail_->Read(formations, app, now);
  }
  const std::shared_ptr<LogTail>& tail() const { return tail_; }

 private:
  std::shared_ptr<LogTail> tail_;
};

}  // namespace dynoherd::providers::sources
