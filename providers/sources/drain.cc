#include "providers/sources/drain.h"

#include <algorithm>

#include "latency/ingest.h"
#include "providers/sources/http_fields.h"
#include "providers/sources/router_log_common.h"

namespace dynoherd::providers::sources {

namespace {

constexpr Duration kLogEvery = 1min;

std::string_view MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ')
    content_type.remove_suffix(1);
  while (!content_type.empty() && content_type.front() == ' ')
    content_type.remove_prefix(1);
  return content_type;
}

}  // namespace

bool DrainInbox::RememberFrame(const std::string& frame_id) {
  std::lock_guard lock(mu_);
  if (!frame_ids_.insert(frame_id).second) return false;
  frame_order_.push_back(frame_id);
  while (frame_order_.size() > remembered_frame_ids_) {
    frame_ids_.erase(frame_order_.front());
    frame_order_.pop_front();
  }
  return true;
}

void DrainInbox::Received(TimePoint at, int64_t router_lines) {
  std::lock_guard lock(mu_);
  ++stats_.batches;
  stats_.router_lines += router_lines;
  stats_.last_batch_at = at;
}

DrainInbox::Stats DrainInbox::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

DrainInbox::Stats DrainInbox::ReadAt(TimePoint now) {
  std::lock_guard lock(mu_);
  if (!stats_.first_read_at) stats_.first_read_at = now;
  return stats_;
}

Result<std::shared_ptr<DrainInbox>> DrainRegistry::Acquire(const std::string& policy,
                                                           Duration window) {
  std::lock_guard lock(mu_);
  if (auto it = inboxes_.find(policy); it != inboxes_.end()) {
    if (auto live = it->second.lock(); live && live->window_length() >= window) return live;
  }
  latency::WindowOptions options;
  options.window = window;
  Result<latency::LatencyWindow> created = latency::LatencyWindow::Create(options);
  if (!created.ok()) return created.status().WithContext("drain of policy " + policy);
  auto inbox = std::make_shared<DrainInbox>(std::move(created).value(), remembered_frame_ids_);
  inbox->window_length_ = window;
  inboxes_[policy] = inbox;
  return inbox;
}

std::shared_ptr<DrainInbox> DrainRegistry::Find(const std::string& policy) const {
  std::lock_guard lock(mu_);
  auto it = inboxes_.find(policy);
  return it == inboxes_.end() ? nullptr : it->second.lock();
}

DrainReceiver::DrainReceiver(std::shared_ptr<DrainRegistry> registry, DrainReceiverOptions options,
                             const Clock& clock, Logger& logger, RouterLineCounter count_lines)
    : registry_(std::move(registry)),
      options_(std::move(options)),
      clock_(clock),
      logger_(logger),
      count_lines_(std::move(count_lines)) {}

void DrainReceiver::LogThrottled(LogLevel level, const std::string& key, std::string_view message,
                                 LogFields fields) {
  const TimePoint now = clock_.Now();
  {
    std::lock_guard lock(log_mu_);
    auto it = last_logged_.find(key);
    if (it != last_logged_.end() && now - it->second < kLogEvery) return;
    last_logged_[key] = now;
  }
  logger_.Log(level, message, fields);
}

DrainReply DrainReceiver::Handle(std::string_view policy_name,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view body, std::string_view remote_address) {
  const std::string policy(policy_name);
  LogFields where = {{"policy", policy}};
  if (!remote_address.empty()) where.push_back({"remote", remote_address});
  if (std::optional<DrainReply> refused = CheckAuthorization(headers, where)) return *refused;
  std::shared_ptr<DrainInbox> inbox = registry_->Find(policy);
  if (!inbox) return {404, "policy \"" + policy + "\" has no formation with via: drain\n"};
  if (auto type = FindHeader(headers, "Content-Type")) {
    if (!EqualsIgnoringCase(MediaType(*type), "application/logplex-1")) {
      return {415, "expected Content-Type application/logplex-1\n"};
    }
  }
  if (body.size() > options_.max_body_bytes) {
    return {413, "body larger than " + std::to_string(options_.max_body_bytes) + " bytes\n"};
  }
  return Take(*inbox, policy, headers, body, where);
}

std::optional<DrainReply> DrainReceiver::CheckAuthorization(
    const std::vector<std::pair<std::string, std::string>>& headers, const LogFields& where) {
  if (!options_.secret || options_.secret->empty()) {
    LogThrottled(LogLevel::kError, "no-secret",
                 "log drain batch refused: DYNOHERD_DRAIN_SECRET is not set, so every drain is "
                 "refused; set it and use it as the password of the drain URL",
                 where);
    return DrainReply{503,
                      "log drains are off: DYNOHERD_DRAIN_SECRET is not set on this dynoherd\n"};
  }
  std::optional<std::string> password;
  if (auto authorization = FindHeader(headers, "Authorization")) {
    password = BasicAuthPassword(*authorization);
  }
  if (!password || !ConstantTimeEquals(*options_.secret, *password)) {
    // One key for every policy: the name comes from an unauthenticated URL.
    LogThrottled(LogLevel::kWarn, "auth",
                 password ? "log drain batch refused: wrong password"
                          : "log drain batch refused: no basic auth",
                 where);
    return DrainReply{401,
                      "unauthorized: the drain URL needs https://user:DYNOHERD_DRAIN_SECRET@...\n"};
  }
  return std::nullopt;
}

DrainReply DrainReceiver::Take(DrainInbox& inbox, const std::string& policy,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view body, const LogFields& where) {
  latency::DrainBatch batch = latency::ReadDrainBody(body);
  // Counted once taken: a batch logplex retries under the same frame id is not counted again.
  auto count_lines = [&] {
    RouterLineTally tally(count_lines_);
    tally.Count(latency::LineKind::kRouter, batch.counts.router);
    tally.Count(latency::LineKind::kIgnored, batch.counts.ignored);
    tally.Count(latency::LineKind::kMalformed,
                batch.counts.malformed + batch.counts.framing_problems);
  };
  if (batch.counts.lines == 0) {
    count_lines();
    LogFields fields = where;
    if (!batch.counts.first_problem.empty()) {
      fields.push_back({"problem", batch.counts.first_problem});
    }
    LogThrottled(LogLevel::kWarn, "garbage:" + policy,
                 "log drain batch refused: no logplex frame could be read", fields);
    return {400, "no logplex frame could be read" +
                     (batch.counts.first_problem.empty() ? std::string()
                                                         : ": " + batch.counts.first_problem) +
                     "\n"};
  }
  if (auto frame_id = FindHeader(headers, "Logplex-Frame-Id"); frame_id && !frame_id->empty()) {
    if (!inbox.RememberFrame(std::string(*frame_id))) {
      logger_.Debug("log drain batch already taken", {{"policy", policy}});
      return {204, ""};
    }
  }
  count_lines();
  const TimePoint now = clock_.Now();
  inbox.window().Add(batch.router_lines, now);
  inbox.Received(now, batch.counts.router);
  if (batch.counts.framing_problems > 0 || batch.counts.malformed > 0) {
    LogFields fields = where;
    fields.push_back({"frames", batch.counts.lines});
    fields.push_back({"problem", batch.counts.first_problem});
    LogThrottled(LogLevel::kWarn, "partial:" + policy, "log drain batch partly unreadable", fields);
  }
  return {204, ""};
}

std::map<std::string, model::FormationLatency> DrainSource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    TimePoint now) {
  const DrainInbox::Stats stats = inbox_->ReadAt(now);
  if (stats.batches == 0) {
    const Duration waited = SecondsBetween(*stats.first_read_at, now);
    const std::string nothing = "the drain of policy " + policy_ + " has received nothing for " +
                                FormatDuration(waited) +
                                " since dynoherd started (is it added? heroku drains -a APP; a "
                                "refused batch is logged)";
    // Logplex sends every log line of the app: a drain silent for a whole window since the start
    // is far likelier missing, misaddressed or refused than an app without one line. Once a
    // batch came, later silence is a quiet app (not enough data).
    if (waited >= inbox_->window_length()) return AllFailed(formations, nothing);
    return ReadFormations(inbox_->window(), formations, app, now, nothing);
  }
  const std::string context = "the last drain batch arrived " +
                              FormatDuration(SecondsBetween(*stats.last_batch_at, now)) + " ago";
  return ReadFormations(inbox_->window(), formations, app, now, context);
}

std::map<std::string, model::FormationLatency> UnknownLatencySource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState&, TimePoint) {
  return AllUnknown(formations, reason_);
}

}  // namespace dynoherd::providers::sources
