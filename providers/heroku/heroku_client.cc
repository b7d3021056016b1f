#include "providers/heroku/heroku_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "providers/heroku/heroku_json.h"

namespace dynoherd::providers::heroku {
namespace {

constexpr const char* kAccept = "application/vnd.heroku+json; version=3";
constexpr double kRefillPerMinute = 75;  // Heroku's documented refill rate, approximately
constexpr size_t kMaxCachedPages = 512;

std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// The same code and API details with another message (Status has no setter, by design).
Status WithMessage(const Status& s, std::string message) {
  Status out;
  switch (s.code()) {
    case Status::Code::kOk:
      return s;
    case Status::Code::kInvalidArgument:
      out = Status::InvalidArgument(std::move(message));
      break;
    case Status::Code::kNotFound:
      out = Status::NotFound(std::move(message));
      break;
    case Status::Code::kAlreadyExists:
      out = Status::AlreadyExists(std::move(message));
      break;
    case Status::Code::kFailedPrecondition:
      out = Status::FailedPrecondition(std::move(message));
      break;
    case Status::Code::kPermissionDenied:
      out = Status::PermissionDenied(std::move(message));
      break;
    case Status::Code::kUnauthenticated:
      out = Status::Unauthenticated(std::move(message));
      break;
    case Status::Code::kResourceExhausted:
      out = Status::ResourceExhausted(std::move(message));
      break;
    case Status::Code::kUnavailable:
      out = Status::Unavailable(std::move(message));
      break;
    case Status::Code::kDeadlineExceeded:
      out = Status::DeadlineExceeded(std::move(message));
      break;
    case Status::Code::kAborted:
      out = Status::Aborted(std::move(message));
      break;
    case Status::Code::kInternal:
      out = Status::Internal(std::move(message));
      break;
    case Status::Code::kOutcomeUnknown:
      out = Status::OutcomeUnknown(std::move(message));
      break;
  }
  if (s.api_error()) out = out.WithApiError(*s.api_error());
  return out;
}

std::string OneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string RequestIdOf(const HttpHeaders& headers) {
  return headers.Get("Request-Id").value_or("");
}

// Splits a byte stream into lines, dropping (and counting) lines longer than the limit.
class LineSplitter {
 public:
  LineSplitter(size_t max_line_bytes, const LineHandler& on_line, LogReadSummary& summary)
      : max_line_bytes_(max_line_bytes), on_line_(on_line), summary_(summary) {}

  bool Feed(std::string_view chunk) {
    summary_.bytes += static_cast<int64_t>(chunk.size());
    while (!chunk.empty()) {
      const size_t eol = chunk.find('\n');
      const std::string_view part = chunk.substr(0, eol);
      if (!skipping_) {
        if (buffer_.size() + part.size() > max_line_bytes_) {
          skipping_ = true;
          buffer_.clear();
        } else {
          buffer_.append(part);
        }
      }
      if (eol == std::string_view::npos) return true;
      chunk.remove_prefix(eol + 1);
      if (!EndLine()) return false;
    }
    return true;
  }

  // The body ended: a last line without a newline still counts.
  void Finish() {
    if (!buffer_.empty() || skipping_) EndLine();
  }

 private:
  bool EndLine() {
    if (skipping_) {
      skipping_ = false;
      ++summary_.long_lines_dropped;
      return true;
    }
    std::string_view line = buffer_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool more = true;
    if (!line.empty()) {
      ++summary_.lines;
      more = on_line_(line);
    }
    buffer_.clear();
    return more;
  }

  size_t max_line_bytes_;
  const LineHandler& on_line_;
  LogReadSummary& summary_;
  std::string buffer_;
  bool skipping_ = false;
};

}  // namespace

struct HerokuClient::Call {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string what;  // "list dynos of shop": starts every message about this call
  // Safe to send again after it may have reached Heroku (reads, absolute updates).
  bool idempotent = true;
  // Changes the app (scale, restart, stop): a failure after it was sent is OutcomeUnknown.
  bool changes_app = false;
  bool budgeted = true;
  int max_attempts = 0;  // 0 = the retry policy's
  std::vector<std::pair<std::string, std::string>> headers;
  std::string cache_key;  // non-empty: conditional GET with the cached ETag
};

Result<HerokuClientOptions> HerokuClientOptionsFromEnvironment(const EnvLookup& env) {
  HerokuClientOptions options;
  Result<std::string> url = ResolveHerokuApiUrl(env);
  if (!url.ok()) return url.status();
  Result<HerokuToken> token = ResolveHerokuToken(env);
  if (!token.ok()) return token.status();
  options.api_url = *url;
  options.token = token->value;
  options.token_source = token->source;
  return options;
}

std::string EscapePathSegment(std::string_view segment) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::unique_ptr<HerokuClient>> HerokuClient::Create(HerokuClientOptions options,
                                                           const Clock& clock, Sleeper* sleeper,
                                                           Logger& logger) {
  if (options.token.empty()) {
    return Status::Unauthenticated(
        "no Heroku API token: set HEROKU_API_KEY, or run `heroku login`");
  }
  while (!options.api_url.empty() && options.api_url.back() == '/')
    options.api_url.pop_back();
  if (Status s = ValidateHerokuApiUrl(options.api_url); !s.ok()) return s;
  if (options.retry.max_attempts < 1) return Status::InvalidArgument("retry attempts must be >= 1");
  if (options.retry.initial_backoff <= Duration::zero() ||
      options.retry.max_backoff < options.retry.initial_backoff) {
    return Status::InvalidArgument("retry backoff must be > 0 and no more than its maximum");
  }
  if (options.page_size < 0 || options.page_size > 1000) {
    return Status::InvalidArgument("page size must be 0..1000 (Heroku's maximum)");
  }
  if (options.max_pages < 1) return Status::InvalidArgument("max pages must be >= 1");
  if (options.api_reserve < 0) return Status::InvalidArgument("the API reserve must be >= 0");
  if (options.transport.user_agent.empty()) {
    options.transport.user_agent = std::string("dynoherd/") + DYNOHERD_VERSION;
  }
  return std::unique_ptr<HerokuClient>(
      new HerokuClient(std::move(options), clock, sleeper, logger));
}

HerokuClient::HerokuClient(HerokuClientOptions options, const Clock& clock, Sleeper* sleeper,
                           Logger& logger)
    : options_(std::move(options)),
      clock_(clock),
      sleeper_(sleeper ? *sleeper : own_sleeper_),
      logger_(logger),
      transport_(options_.transport),
      jitter_rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()) {}

ApiStats HerokuClient::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status HerokuClient::Sanitize(Status status) const {
  if (status.ok()) return status;
  std::string message = Redact(status.message(), {options_.token});
  if (message == status.message()) return status;
  return WithMessage(status, std::move(message));
}

Duration HerokuClient::BackoffFor(int retry_number) {
  const int64_t initial = options_.retry.initial_backoff.count();
  const int64_t cap = options_.retry.max_backoff.count();
  int64_t d = initial;
  for (int i = 1; i < retry_number && d < cap; ++i)
    d *= 2;
  d = std::min(d, cap);
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return Duration(jitter(jitter_rng_));
}

void HerokuClient::ObserveRateLimit(const HttpHeaders& headers, int http_status) {
  std::optional<int> remaining;
  if (std::optional<std::string> value = headers.Get("RateLimit-Remaining"))
    remaining = ParseInt(*value);
  if (!remaining && http_status == 429) remaining = 0;
  if (!remaining) return;
  std::lock_guard lock(mu_);
  stats_.rate_limit_remaining = *remaining;
  stats_.rate_limit_observed_at = clock_.Now();
}

Status HerokuClient::CheckBudget(const std::string& what) {
  const int reserve = options_.api_reserve;
  if (reserve <= 0) return Status::Ok();
  std::unique_lock lock(mu_);
  if (!stats_.rate_limit_remaining || *stats_.rate_limit_remaining >= reserve) return Status::Ok();
  const TimePoint now = clock_.Now();
  if (!last_budget_check_ || now - *last_budget_check_ >= options_.budget_check_interval) {
    last_budget_check_ = now;
    lock.unlock();
    Result<int> fresh = FetchRateLimitRemaining();  // free; updates stats_ when it answers
    if (!fresh.ok()) {
      logger_.Warn("could not read the Heroku API budget", {{"error", fresh.status().message()}});
    }
    lock.lock();
  }
  const int remaining = stats_.rate_limit_remaining.value_or(0);
  if (remaining >= reserve) return Status::Ok();
  ++stats_.budget_skips;
  lock.unlock();
  const auto refill_seconds =
      static_cast<int64_t>(std::ceil((reserve - remaining) * 60.0 / kRefillPerMinute));
  const std::string eta = FormatDuration(std::chrono::seconds(refill_seconds));
  logger_.Warn(
      "Heroku API budget below the reserve: skipping the call",
      {{"call", what}, {"remaining", remaining}, {"reserve", reserve}, {"refillEta", eta}});
  return Status::ResourceExhausted(what + ": skipped: the Heroku API budget is low (" +
                                   std::to_string(remaining) + " calls left, reserve " +
                                   std::to_string(reserve) +
                                   "); reads and actions resume when it refills, in about " + eta);
}

Status HerokuClient::DescribeHttpError(const Call& call, const HttpResponse& response) const {
  const HerokuErrorBody error = ParseErrorBody(response.body);
  const std::string request_id = RequestIdOf(response.headers);
  const int code = response.status;
  std::string detail = "Heroku answered " + std::to_string(code);
  if (!error.id.empty()) detail += " " + error.id;
  if (!error.message.empty()) detail += ": " + OneLine(error.message);
  if (!request_id.empty()) detail += " (request id " + request_id + ")";

  Status status;
  if (code == 422 && ContainsIgnoreCase(error.message, "preboot")) {
    status =
        Status::Unavailable("formation locked by a release, retrying next pass (" + detail + ")");
  } else if (code == 401) {
    status =
        Status::Unauthenticated(detail + "; check the API token from " + options_.token_source +
                                " (`heroku auth:token` shows the current one)");
  } else if (code == 403) {
    status = Status::PermissionDenied(detail);
  } else if (code == 404) {
    status = Status::NotFound(detail);
  } else if (code == 429) {
    status = Status::ResourceExhausted(detail);
  } else if (code >= 500) {
    status = Status::Unavailable(detail);
  } else if (code == 406 || code == 416) {
    status = Status::Internal(detail + "; dynoherd sent a request Heroku cannot serve (a bug)");
  } else if (code == 400 || code == 422) {
    status = Status::InvalidArgument(detail);
  } else if (code >= 300 && code < 400) {
    status = Status::Unavailable(detail + "; redirects are not followed");
  } else {
    status = Status::FailedPrecondition(detail);
  }
  return status.WithContext(call.what).WithApiError({code, error.id, request_id});
}

Result<HttpResponse> HerokuClient::Execute(const Call& call) {
  if (call.budgeted) {
    if (Status s = CheckBudget(call.what); !s.ok()) return s;
  }
  const std::optional<CachedPage> cached = CachedPageFor(call);
  const HttpRequest request = RequestFor(call, cached);
  const int max_attempts = call.max_attempts > 0 ? call.max_attempts : options_.retry.max_attempts;
  const TimePoint first_attempt = clock_.Now();
  // Once an attempt of a write was sent and not answered, no later failure tells whether it
  // took effect.
  bool maybe_applied = false;
  auto unanswered = [&](Status failure) {
    if (!maybe_applied) return failure;
    return Status::OutcomeUnknown(failure.message() +
                                  " (the request was sent and no answer came: it may have taken "
                                  "effect)");
  };
  for (int attempt = 1;; ++attempt) {
    Attempt outcome = SendOnce(call, request, attempt, cached);
    if (outcome.response) return std::move(*outcome.response);
    maybe_applied = maybe_applied || (call.changes_app && outcome.sent_unanswered);
    if (!outcome.retryable) return unanswered(Sanitize(outcome.failure));
    Result<Duration> wait = NextWait(attempt, max_attempts, first_attempt, outcome);
    if (!wait.ok()) return unanswered(Sanitize(wait.status()));
    logger_.Warn("heroku api call failed; retrying",
                 {{"call", call.what},
                  {"attempt", attempt},
                  {"wait", FormatDuration(*wait)},
                  {"error", Redact(outcome.failure.message(), {options_.token})}});
    {
      std::lock_guard lock(mu_);
      ++stats_.retries;
    }
    if (!sleeper_.Sleep(*wait)) {
      return unanswered(Status::Aborted(call.what + ": stopped while waiting to retry"));
    }
  }
}

std::optional<HerokuClient::CachedPage> HerokuClient::CachedPageFor(const Call& call) {
  if (!options_.use_etags || call.cache_key.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = etag_cache_.find(call.cache_key);
  if (it == etag_cache_.end()) return std::nullopt;
  return it->second;
}

HttpRequest HerokuClient::RequestFor(const Call& call,
                                     const std::optional<CachedPage>& cached) const {
  HttpRequest request;
  request.method = call.method;
  request.url = Url(call.path);
  request.headers = {{"Accept", kAccept}, {"Authorization", "Bearer " + options_.token}};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  for (const auto& header : call.headers)
    request.headers.push_back(header);
  request.body = call.body;
  // libcurl resends a request by itself when a reused connection dies before answering; a call
  // that must not be sent twice gets a connection of its own.
  request.fresh_connection = !call.idempotent;
  if (cached) request.headers.emplace_back("If-None-Match", cached->etag);
  return request;
}

HerokuClient::Attempt HerokuClient::SendOnce(const Call& call, const HttpRequest& request,
                                             int attempt, const std::optional<CachedPage>& cached) {
  const auto sent_at = std::chrono::steady_clock::now();
  HttpResult result = transport_.Send(request);
  const auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - sent_at)
                               .count();
  {
    std::lock_guard lock(mu_);
    ++stats_.calls;
  }
  ReportResponse(call, result);
  if (!result.ok()) {
    logger_.Debug("heroku api call failed", {{"method", call.method},
                                             {"path", call.path},
                                             {"error", result.status.message()},
                                             {"attempt", attempt}});
    Attempt failed;
    failed.failure = result.status.WithContext(call.what);
    failed.retryable = call.idempotent || result.RequestNeverSent();
    failed.sent_unanswered =
        !result.RequestNeverSent() && result.failure != TransportFailure::kTooLarge;
    return failed;
  }
  HttpResponse& response = result.response;
  ObserveRateLimit(response.headers, response.status);
  logger_.Debug("heroku api call", {{"method", call.method},
                                    {"path", call.path},
                                    {"status", response.status},
                                    {"durationMs", static_cast<int64_t>(duration_ms)},
                                    {"requestId", RequestIdOf(response.headers)},
                                    {"attempt", attempt},
                                    {"rateLimitRemaining",
                                     response.headers.Get("RateLimit-Remaining").value_or("")}});
  return Judge(call, std::move(response), cached);
}

HerokuClient::Attempt HerokuClient::Judge(const Call& call, HttpResponse response,
                                          const std::optional<CachedPage>& cached) {
  Attempt outcome;
  if (response.status == 304 && cached) {
    outcome.response = cached->response;
    return outcome;
  }
  if (response.status >= 200 && response.status <= 299) {
    if (options_.use_etags && !call.cache_key.empty()) {
      if (std::optional<std::string> etag = response.headers.Get("ETag")) {
        std::lock_guard lock(mu_);
        if (etag_cache_.size() >= kMaxCachedPages) etag_cache_.clear();
        etag_cache_[call.cache_key] = {*etag, response};
      }
    }
    outcome.response = std::move(response);
    return outcome;
  }
  outcome.failure = DescribeHttpError(call, response);
  // A 429 or 5xx answer means Heroku saw the request: only idempotent calls go again.
  outcome.retryable = call.idempotent &&
                      (response.status == 429 || response.status == 500 || response.status == 502 ||
                       response.status == 503 || response.status == 504);
  if (std::optional<std::string> value = response.headers.Get("Retry-After")) {
    if (std::optional<int> seconds = ParseInt(*value); seconds && *seconds >= 0) {
      outcome.retry_after = std::chrono::seconds(*seconds);
    } else if (std::optional<TimePoint> at = ParseHttpDate(*value)) {
      outcome.retry_after =
          std::max(Duration::zero(), std::chrono::duration_cast<Duration>(*at - clock_.Now()));
    }
  }
  return outcome;
}

Result<Duration> HerokuClient::NextWait(int attempt, int max_attempts, TimePoint first_attempt,
                                        const Attempt& failed) {
  const Status& failure = failed.failure;
  if (attempt >= max_attempts) {
    return WithMessage(
        failure, failure.message() + " (gave up after " + std::to_string(attempt) + " attempts)");
  }
  Duration wait = BackoffFor(attempt);
  if (failed.retry_after) wait = std::max(wait, *failed.retry_after);
  const Duration elapsed = std::chrono::duration_cast<Duration>(clock_.Now() - first_attempt);
  if (elapsed + wait > options_.retry.max_total) {
    return WithMessage(failure,
                       failure.message() + " (not retried: the next attempt would start after " +
                           FormatDuration(elapsed + wait) + ", beyond the retry limit of " +
                           FormatDuration(options_.retry.max_total) + ")");
  }
  return wait;
}

// Tells the observer of every attempt, answered or not, with RateLimit-Remaining when sent.
void HerokuClient::ReportResponse(const Call& call, const HttpResult& result) const {
  if (!options_.on_response) return;
  std::optional<int> remaining;
  if (result.ok()) {
    if (auto header = result.response.headers.Get("RateLimit-Remaining")) {
      int value = 0;
      auto [ptr, ec] = std::from_chars(header->data(), header->data() + header->size(), value);
      if (ec == std::errc() && ptr == header->data() + header->size()) remaining = value;
    }
  }
  options_.on_response(call.method, result.ok() ? result.response.status : 0, remaining);
}

Result<std::vector<std::string>> HerokuClient::GetAllPages(const std::string& path,
                                                           const std::string& what) {
  std::vector<std::string> bodies;
  std::optional<std::string> range;
  if (options_.page_size > 0) range = "id ..; max=" + std::to_string(options_.page_size);
  for (int page = 1; page <= options_.max_pages; ++page) {
    Call call;
    call.path = path;
    call.what = what;
    if (range) call.headers.emplace_back("Range", *range);
    call.cache_key = path + "\n" + range.value_or("");
    Result<HttpResponse> response = Execute(call);
    if (!response.ok()) return response.status();
    bodies.push_back(std::move(response->body));
    if (response->status != 206) return bodies;
    range = response->headers.Get("Next-Range");
    if (!range || range->empty()) {
      return Status::Unavailable(
          what + ": Heroku answered 206 Partial Content without Next-Range (request id " +
          RequestIdOf(response->headers) + ")");
    }
  }
  return Status::Unavailable(what + ": the list did not end after " +
                             std::to_string(options_.max_pages) + " pages");
}

Result<std::vector<model::FormationState>> HerokuClient::ListFormations(const std::string& app) {
  const std::string what = "list formations of " + app;
  Result<std::vector<std::string>> pages =
      GetAllPages("/apps/" + EscapePathSegment(app) + "/formation", what);
  if (!pages.ok()) return pages.status();
  std::vector<model::FormationState> out;
  for (const std::string& body : *pages) {
    Result<std::vector<model::FormationState>> page = ParseFormationPage(body);
    if (!page.ok()) return Sanitize(page.status().WithContext(what));
    out.insert(out.end(), page->begin(), page->end());
  }
  return out;
}

Result<std::vector<model::DynoState>> HerokuClient::ListDynos(const std::string& app) {
  const std::string what = "list dynos of " + app;
  Result<std::vector<std::string>> pages =
      GetAllPages("/apps/" + EscapePathSegment(app) + "/dynos", what);
  if (!pages.ok()) return pages.status();
  std::vector<model::DynoState> out;
  for (const std::string& body : *pages) {
    Result<std::vector<model::DynoState>> page = ParseDynoPage(body);
    if (!page.ok()) return Sanitize(page.status().WithContext(what));
    out.insert(out.end(), page->begin(), page->end());
  }
  return out;
}

Status HerokuClient::UpdateFormations(const std::string& app,
                                      const std::vector<ScaleRequest>& updates) {
  if (updates.empty()) return Status::Ok();
  std::string what = "scale " + app + " to";
  for (const ScaleRequest& u : updates)
    what += " " + u.type + "=" + std::to_string(u.quantity);
  Call call;
  call.method = "PATCH";
  call.changes_app = true;
  call.path = "/apps/" + EscapePathSegment(app) + "/formation";
  call.body = FormationBatchBody(updates);
  call.what = what;
  call.idempotent = true;  // absolute quantities: applying it twice changes nothing
  Result<HttpResponse> response = Execute(call);
  return response.ok() ? Status::Ok() : response.status();
}

Status HerokuClient::RestartDyno(const std::string& app, const std::string& dyno) {
  Call call;
  call.method = "DELETE";
  call.changes_app = true;
  call.path = "/apps/" + EscapePathSegment(app) + "/dynos/" + EscapePathSegment(dyno);
  call.what = "restart dyno " + dyno + " of " + app;
  call.idempotent = false;
  Result<HttpResponse> response = Execute(call);
  return response.ok() ? Status::Ok() : response.status();
}

Status HerokuClient::StopDyno(const std::string& app, const std::string& dyno) {
  Call call;
  call.method = "POST";
  call.path =
      "/apps/" + EscapePathSegment(app) + "/dynos/" + EscapePathSegment(dyno) + "/actions/stop";
  call.what = "stop dyno " + dyno + " of " + app;
  call.changes_app = true;
  call.idempotent = false;
  Result<HttpResponse> response = Execute(call);
  return response.ok() ? Status::Ok() : response.status();
}

Result<LogSession> HerokuClient::CreateLogSession(const std::string& app,
                                                  const LogSessionRequest& request) {
  Call call;
  call.method = "POST";
  call.path = "/apps/" + EscapePathSegment(app) + "/log-sessions";
  call.body = LogSessionBody(request.dyno_name, request.source, request.lines, request.tail);
  call.what = "open a log session for " + app;
  call.idempotent = true;  // a second session changes nothing on the app
  Result<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  Result<std::string> url = ParseLogplexUrl(response->body);
  if (!url.ok()) return Sanitize(url.status().WithContext(call.what));
  return LogSession{app, *url};
}

Result<LogReadSummary> HerokuClient::ReadLogSession(const LogSession& session,
                                                    const LogReadLimits& limits,
                                                    const LineHandler& on_line) {
  const std::string what = "read the log session of " + session.app;
  const std::string host = HostOfUrl(session.url);
  // Deliberately bare: the API token must never reach the logplex host.
  HttpRequest request;
  request.url = session.url;
  LogReadSummary summary;
  LineSplitter splitter(limits.max_line_bytes, on_line, summary);
  StreamLimits stream_limits{limits.max_bytes, limits.max_duration, limits.stop};
  StreamResult result = transport_.Stream(
      request, stream_limits, [&](std::string_view chunk) { return splitter.Feed(chunk); });
  const std::vector<std::string> secrets = {options_.token, session.url};
  if (!result.status.ok()) {
    Status s = result.status.WithContext(what);
    return WithMessage(s, Redact(s.message(), secrets));
  }
  if (result.http_status < 200 || result.http_status > 299) {
    std::string detail = what + ": " + host + " answered " + std::to_string(result.http_status);
    if (result.http_status == 404) detail += " (the session expired or does not exist)";
    return Status::Unavailable(Redact(detail, secrets));
  }
  if (result.end == StreamEnd::kEndOfBody) splitter.Finish();
  summary.end = result.end;
  logger_.Debug("heroku log session read", {{"app", session.app},
                                            {"host", host},
                                            {"lines", summary.lines},
                                            {"bytes", summary.bytes},
                                            {"end", StreamEndName(result.end)}});
  return summary;
}

Result<int> HerokuClient::FetchRateLimitRemaining() {
  Call call;
  call.path = "/account/rate-limits";
  call.what = "read the API rate limit";
  call.budgeted = false;
  call.max_attempts = 1;
  Result<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  Result<int> remaining = ParseRateLimitRemaining(response->body);
  if (!remaining.ok()) return remaining.status().WithContext(call.what);
  std::lock_guard lock(mu_);
  stats_.rate_limit_remaining = *remaining;
  stats_.rate_limit_observed_at = clock_.Now();
  return *remaining;
}

}  // namespace dynoherd::providers::heroku
