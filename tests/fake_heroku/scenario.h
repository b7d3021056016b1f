// The world a fake Heroku serves: apps, formations, dynos, the account's rate-limit pool, router
// latency profiles for log sessions, and the faults to inject. Loaded from YAML (JSON works too);
// the format is documented in tests/fake_heroku/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace dynoherd::fake_heroku {

using namespace std::chrono_literals;

// How one dyno's requests look in the router log of a log session.
struct LatencyProfile {
  double median_ms = 100;     // medianMs: median service time
  int count = 100;            // count: requests in a full window
  double spread = 0.25;       // spread: sigma of the log-normal around the median
  double laggard_factor = 1;  // laggardFactor: multiplies service times until the dyno restarts
  int h12 = 0;                // h12: "Request timeout" errors in the window, until it restarts
};

struct FormationSpec {
  std::string type;
  int quantity = 1;
  std::string size = "standard-1X";
  std::string command;  // default: "bundle exec puma -C config/puma.rb" for web, "bin/<type>" else
};

struct DynoSpec {
  std::string name;
  std::string type;
  std::string state = "up";
};

struct AppSpec {
  std::string name;
  bool fir_names = false;        // naming: fir -> "web-1234abcde-123ab", classic -> "web.1"
  Duration restart_delay = 20s;  // restartDelay: starting (or down) this long, then up
  std::vector<FormationSpec> formations;
  std::vector<DynoSpec> dynos;  // empty: `quantity` dynos per formation, all up
  // logs:
  Duration log_window = 5min;  // logs.window: how far back a session's lines reach
  std::vector<std::string> log_types = {"web"};    // logs.types: formations the router serves
  LatencyProfile default_profile;                  // logs.default
  std::map<std::string, LatencyProfile> profiles;  // logs.dynos, by dyno name
  std::vector<std::string> extra_log_lines;        // logs.extraLines: appended verbatim
};

enum class FaultKind {
  kError,          // answer `status` with a Heroku-style JSON error (and Retry-After if set)
  kSlow,           // wait `delay` of wall time, then answer normally
  kStall,          // apply the request at once, then wait `delay` of wall time before answering
                   // (a write that took effect and whose answer a client gives up on)
  kDrop,           // close the connection without answering
  kDropAfter,      // apply the request, then close the connection without answering
  kTruncate,       // announce the whole body, send half, close
  kSlowBody,       // apply the request, answer its headers, then trickle the body over `delay`
  kMalformedJson,  // apply the request, answer 200 with a body that is not valid JSON
  kWrongShape,     // apply the request, answer 200 with JSON of the wrong shape (wrong types)
};

struct Fault {
  FaultKind kind = FaultKind::kError;
  std::string method;  // empty = any method
  std::string path;    // exact path, or a prefix ending in '*'; empty = any Platform API path
  int status = 503;
  std::string id;                          // the error id; empty = the usual id for `status`
  std::string message;                     // empty = a usual message for `status`
  std::optional<std::string> retry_after;  // Retry-After header, sent as given
  Duration delay = 0ms;
  int skip = 0;   // let this many matching requests through first
  int times = 1;  // then apply to this many; 0 = to every later one

  bool Matches(std::string_view method, std::string_view path) const;
};

struct Scenario {
  std::string token = "HRKU-fake-token-0000";
  uint64_t seed = 1;
  TimePoint start_time{};          // startTime: where a manual clock starts
  int page_size = 200;             // pageSize: list page size when the client sends no max
  bool require_user_agent = true;  // requireUserAgent: 400 without a User-Agent
  // rateLimit:
  int rate_limit_remaining = 4500;
  int rate_limit_capacity = 4500;
  double refill_per_minute = 75;
  bool not_modified_costs = true;  // rateLimit.notModifiedCosts: whether a 304 uses a call
  std::vector<AppSpec> apps;
  std::vector<Fault> faults;
};

Result<Scenario> ParseScenario(std::string_view text, std::string_view source_name);
Result<Scenario> LoadScenario(const std::string& path);
// One fault, as in the scenario's `faults` list (YAML or JSON): the admin route uses it.
Result<Fault> ParseFault(std::string_view text);

}  // namespace dynoherd::fake_heroku
