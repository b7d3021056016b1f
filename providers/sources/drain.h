// `router-logs` via `drain`: Heroku POSTs batches of log lines (application/logplex-1) to
// `dynoherd run`'s listener at /drains/<policy>; the DrainReceiver checks and parses each batch
// into the policy's window, and the policy's DrainSource reads that window at every pass. No API
// calls at all: the drain costs nothing of the account's budget.
//
// The listener mounts DrainReceiver::Handle (see app::RuntimeFactory::MakeDrainHandler);
// the receiver answers like logplex expects: 204 delivered, 4xx dropped for good, 5xx retried.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/time.h"
#include "latency/latency_window.h"
#include "providers/latency_source.h"
#include "providers/observer.h"

namespace dynoherd::providers::sources {

// Where one policy's drain batches land: its window, and the frame ids already taken (logplex
// retries a batch under the same Logplex-Frame-Id). Thread-safe.
class DrainInbox {
 public:
  DrainInbox(latency::LatencyWindow window, size_t remembered_frame_ids)
      : window_(std::move(window)), remembered_frame_ids_(remembered_frame_ids) {}

  latency::SharedLatencyWindow& window() { return window_; }
  Duration window_length() const { return window_length_; }

  // Remembers `frame_id`; false when it was already there (a retried batch). The oldest ids are
  // forgotten beyond the bound.
  bool RememberFrame(const std::string& frame_id);

  // A batch was taken at `at` with `router_lines` router lines.
  void Received(TimePoint at, int64_t router_lines);
  struct Stats {
    int64_t batches = 0;
    int64_t router_lines = 0;
    std::optional<TimePoint> last_batch_at;
    std::optional<TimePoint> first_read_at;  // when a source first read the inbox
  };
  Stats stats() const;
  // stats(), after remembering `now` as first_read_at if no source read the inbox before.
  Stats ReadAt(TimePoint now);

 private:
  friend class DrainRegistry;
  latency::SharedLatencyWindow window_;
  Duration window_length_{};
  const size_t remembered_frame_ids_;
  mutable std::mutex mu_;
  std::deque<std::string> frame_order_;
  std::unordered_set<std::string> frame_ids_;
  Stats stats_;
};

// The inboxes by policy name. Holds them weakly: an inbox lives while its policy's DrainSource
// does, so a reload that keeps the policy keeps its window, and a dropped policy's route answers
// 404. Thread-safe.
class DrainRegistry {
 public:
  explicit DrainRegistry(size_t remembered_frame_ids = 4096)
      : remembered_frame_ids_(remembered_frame_ids) {}

  // The live inbox of `policy` if its window covers `window`, else a new one (which then takes
  // the policy's batches).
  Result<std::shared_ptr<DrainInbox>> Acquire(const std::string& policy, Duration window);
  // Null when no live policy has a drain by this name.
  std::shared_ptr<DrainInbox> Find(const std::string& policy) const;

 private:
  const size_t remembered_frame_ids_;
  mutable std::mutex mu_;
  std::map<std::string, std::weak_ptr<DrainInbox>, std::less<>> inboxes_;
};

struct DrainReply {
  int status = 204;
  std::string body;  // text/plain; never holds a secret
};

struct DrainReceiverOptions {
  // The password that the drain URL's basic auth must carry (DYNOHERD_DRAIN_SECRET). Unset or
  // empty: every batch is refused (503), since an open drain would let anyone feed latency in.
  std::optional<std::string> secret;
  size_t max_body_bytes = 1u << 20;
};

class DrainReceiver {
 public:
  // `clock` stamps lines without a timestamp; `count_lines` is told of every line received.
  // `clock` and `logger` outlive the receiver.
  DrainReceiver(std::shared_ptr<DrainRegistry> registry, DrainReceiverOptions options,
                const Clock& clock, Logger& logger, RouterLineCounter count_lines);

  // One POST /drains/<policy>. Header names are matched without regard to case. Checked in this
  // order: a secret configured (else 503), basic auth with that password (401), a drain for the
  // policy (404), the content type (415; a missing one is accepted), the size (413), a frame id
  // already taken (204, ignored), then the body: 204 when at least one logplex frame was read,
  // 400 when none. Thread-safe; the secret is compared in constant time.
  DrainReply Handle(std::string_view policy,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, std::string_view remote_address = {});

 private:
  // A reply when the batch must be refused before anything else: no secret configured (503), no
  // or the wrong password (401).
  std::optional<DrainReply> CheckAuthorization(
      const std::vector<std::pair<std::string, std::string>>& headers, const LogFields& where);
  // Reads an authorized batch into `inbox`.
  DrainReply Take(DrainInbox& inbox, const std::string& policy,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  std::string_view body, const LogFields& where);
  // Logs `message` at most once a minute per `key`: a misconfigured drain POSTs many times a
  // second.
  void LogThrottled(LogLevel level, const std::string& key, std::string_view message,
                    LogFields fields);

  std::shared_ptr<DrainRegistry> registry_;
  const DrainReceiverOptions options_;
  const Clock& clock_;
  Logger& logger_;
  const RouterLineCounter count_lines_;
  std::mutex log_mu_;
  std::map<std::string, TimePoint> last_logged_;
};

// The LatencySource of a policy whose formations use via: drain, in `dynoherd run`.
class DrainSource final : public LatencySource {
 public:
  DrainSource(std::shared_ptr<DrainInbox> inbox, std::string policy)
      : inbox_(std::move(inbox)), policy_(std::move(policy)) {}
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  std::shared_ptr<DrainInbox> inbox_;
  std::string policy_;
};

// Every formation unknown for one reason: a drain policy in a one-shot command, which has no
// listener to receive the drain.
class UnknownLatencySource final : public LatencySource {
 public:
  explicit UnknownLatencySource(std::string reason) : reason_(std::move(reason)) {}
  std::map<std::string, model::FormationLatency> Read(
      const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
      TimePoint now) override;

 private:
  std::string reason_;
};

}  // namespace dynoherd::providers::sources
