// The Heroku Platform API client: the calls dynoherd makes, with Heroku's headers, paging,
// errors, retries and the account's call budget. Thread-safe; share one client per API token,
// since the budget (4500 calls, refilled at about 75 a minute) belongs to the account.
//
// What is retried: GET and the absolute-quantity formation PATCH, on 429, 5xx and transport
// errors, with exponential backoff and jitter, honouring Retry-After, bounded in attempts and
// total time. Creating a log session is retried the same way: it only reads. Restart and stop are
// never sent twice: the only failure they retry is one where the request provably never left
// (connection refused, name resolution or connect timeout); a pass reports any other failure and
// the next pass decides afresh. A change (scale, restart, stop) that was sent and never answered
// fails with Status::OutcomeUnknown: it may have taken effect.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "common/sleeper.h"
#include "common/status.h"
#include "common/time.h"
#include "model/observation.h"
#include "providers/heroku/heroku_token.h"
#include "providers/http_transport.h"
#include "providers/provider.h"

namespace dynoherd::providers::heroku {

struct RetryPolicy {
  int max_attempts = 4;              // per call, the first included
  Duration initial_backoff = 500ms;  // doubles per retry; each wait is drawn from [d/2, d]
  Duration max_backoff = 8s;
  Duration max_total = 30s;  // no retry starts later than this after the first attempt; a
                             // Retry-After beyond it ends the call at once
};

struct HerokuClientOptions {
  std::string api_url = "https://api.heroku.com";  // see ResolveHerokuApiUrl
  std::string token;                               // the secret
  std::string token_source = "HEROKU_API_KEY";     // named when Heroku rejects the token
  TransportOptions transport;                      // user_agent defaults to "dynoherd/<version>"
  RetryPolicy retry;
  // Below this RateLimit-Remaining, calls are skipped (reads and actions alike) until the budget
  // refills, leaving the rest to people and deploys sharing the account. 0 turns the guard off.
  int api_reserve = 300;
  // Range max for list calls (Heroku allows up to 1000, answers 200 by default). 0 = send no Range
  // on the first page.
  int page_size = 1000;
  int max_pages = 100;  // a list that does not end after this many pages is an error
  // Send If-None-Match with list calls and reuse the cached body on 304. Whether Heroku charges a
  // 304 is unconfirmed; the budget is tracked from RateLimit-Remaining either way.
  bool use_etags = true;
  // While below the reserve, how often the free GET /account/rate-limits may be asked.
  Duration budget_check_interval = 10s;
  uint64_t jitter_seed = 0;  // 0 = seeded from std::random_device
  // Told of every attempt's outcome, for metrics: the method, the HTTP status (0 when no HTTP
  // answer came) and RateLimit-Remaining when Heroku sent it. Called without locks held.
  std::function<void(const std::string& method, int http_status,
                     std::optional<int> rate_limit_remaining)>
      on_response;
};

// Options with the API URL and token from the environment (see heroku_token.h): HEROKU_API_URL,
// HEROKU_API_KEY, else ~/.netrc. The rest keep their defaults.
Result<HerokuClientOptions> HerokuClientOptionsFromEnvironment(const EnvLookup& env);

struct LogSessionRequest {
  std::string dyno_name = "router";  // router lines carry the per-dyno service times
  std::string source = "heroku";
  int lines = 1500;  // Heroku's maximum
  bool tail = false;
};

// An open log session. `url` carries a secret granting read access to the app's logs: it is never
// logged, never put in an error, and the API token is never sent to it.
struct LogSession {
  std::string app;
  std::string url;
};

struct LogReadLimits {
  size_t max_bytes = 4u << 20;
  Duration max_duration = 15s;        // ends a tailing session; normal, not an error
  size_t max_line_bytes = 16u << 10;  // longer lines are dropped and counted
  const std::atomic<bool>* stop = nullptr;
};

struct LogReadSummary {
  int64_t lines = 0;  // handed to the callback
  int64_t bytes = 0;
  int64_t long_lines_dropped = 0;
  StreamEnd end = StreamEnd::kEndOfBody;
};

// Returns false to stop reading.
using LineHandler = std::function<bool(std::string_view line)>;

// Counters for metrics and the status page.
struct ApiStats {
  int64_t calls = 0;  // HTTP requests sent to the Platform API (retries included)
  int64_t retries = 0;
  int64_t budget_skips = 0;  // calls not made because the budget was below the reserve
  std::optional<int> rate_limit_remaining;  // last seen; nullopt before the first answer
  TimePoint rate_limit_observed_at{};
};

class HerokuClient {
 public:
  // Checks the options (a token, an acceptable API URL, sane retry bounds). `sleeper` waits
  // between retries (interrupted: the call ends Aborted); null: a SystemSleeper of the client's
  // own. `clock`, `sleeper` and `logger` must outlive the client.
  static Result<std::unique_ptr<HerokuClient>> Create(HerokuClientOptions options,
                                                      const Clock& clock, Sleeper* sleeper,
                                                      Logger& logger);

  // GET /apps/{app}/formation, every page.
  Result<std::vector<model::FormationState>> ListFormations(const std::string& app);
  // GET /apps/{app}/dynos, following Next-Range through 206 pages until a 200.
  Result<std::vector<model::DynoState>> ListDynos(const std::string& app);
  // PATCH /apps/{app}/formation with absolute quantities, in one batch. No call when empty.
  Status UpdateFormations(const std::string& app, const std::vector<ScaleRequest>& updates);
  // DELETE /apps/{app}/dynos/{dyno}. Never sent twice.
  Status RestartDyno(const std::string& app, const std::string& dyno);
  // POST /apps/{app}/dynos/{dyno}/actions/stop. Never sent twice.
  Status StopDyno(const std::string& app, const std::string& dyno);
  // POST /apps/{app}/log-sessions.
  Result<LogSession> CreateLogSession(const std::string& app,
                                      const LogSessionRequest& request = {});
  // GET the session's logplex URL (no token sent) and hand each complete line to `on_line`,
  // within `limits`. A line cut by a limit is dropped, not delivered.
  Result<LogReadSummary> ReadLogSession(const LogSession& session, const LogReadLimits& limits,
                                        const LineHandler& on_line);
  // GET /account/rate-limits: free, never skipped by the reserve, not retried.
  Result<int> FetchRateLimitRemaining();

  ApiStats stats() const;
  const HerokuClientOptions& options() const { return options_; }

 private:
  struct Call;
  struct CachedPage {
    std::string etag;
    HttpResponse response;
  };

  HerokuClient(HerokuClientOptions options, const Clock& clock, Sleeper* sleeper, Logger& logger);

  // One attempt's outcome: the answer to return, or why it failed and whether to try again.
  struct Attempt {
    std::optional<HttpResponse> response;
    Status failure;
    bool retryable = false;
    std::optional<Duration> retry_after;  // what Heroku asked for
    bool sent_unanswered = false;         // it may have reached Heroku; no answer came
  };

  // Sends `call` (after the budget check), retrying as the class comment says.
  Result<HttpResponse> Execute(const Call& call);
  // The request of `call`; with a cached page of it, a conditional one.
  HttpRequest RequestFor(const Call& call, const std::optional<CachedPage>& cached) const;
  std::optional<CachedPage> CachedPageFor(const Call& call);
  Attempt SendOnce(const Call& call, const HttpRequest& request, int attempt,
                   const std::optional<CachedPage>& cached);
  // What an HTTP answer means: the response (2xx, or 304 with the cached page), or a failure.
  Attempt Judge(const Call& call, HttpResponse response, const std::optional<CachedPage>& cached);
  // How long to wait before attempt `attempt` + 1, or the failure to return instead: out of
  // attempts, or past the retry policy's total time.
  Result<Duration> NextWait(int attempt, int max_attempts, TimePoint first_attempt,
                            const Attempt& failed);
  void ReportResponse(const Call& call, const HttpResult& result) const;
  Result<std::vector<std::string>> GetAllPages(const std::string& path, const std::string& what);
  Status CheckBudget(const std::string& what);
  void ObserveRateLimit(const HttpHeaders& headers, int http_status);
  Status DescribeHttpError(const Call& call, const HttpResponse& response) const;
  Status Sanitize(Status status) const;
  Duration BackoffFor(int retry_number);
  std::string Url(const std::string& path) const { return options_.api_url + path; }

  HerokuClientOptions options_;
  const Clock& clock_;
  SystemSleeper own_sleeper_;
  Sleeper& sleeper_;
  Logger& logger_;
  HttpTransport transport_;

  mutable std::mutex mu_;
  std::mt19937_64 jitter_rng_;
  ApiStats stats_;
  std::optional<TimePoint> last_budget_check_;
  std::map<std::string, CachedPage> etag_cache_;
};

// Percent-encodes a path segment (an app or dyno name) so it cannot change the path.
std::string EscapePathSegment(std::string_view segment);

}  // namespace dynoherd::providers::heroku
