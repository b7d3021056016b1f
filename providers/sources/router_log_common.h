// What the router-log sources (log sessions, tails, drains) share: which dynos a formation has,
// the window a set of formations needs, the latency of formations out of a window, and the count
// of router lines for dynoherd_router_lines_total.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "latency/latency_window.h"
#include "latency/router_line.h"
#include "model/observation.h"
#include "providers/observer.h"
#include "providers/provider.h"
#include "spec/policy.h"

namespace dynoherd::providers::sources {

using namespace std::chrono_literals;

// The names of the app's dynos of formation `type`, as the Platform API lists them: the
// authority on which dyno belongs where (newer apps name dynos "web-1234abcde-x7k2p").
std::vector<std::string> DynosOf(const model::AppState& app, std::string_view type);

// The longest latency.window among `formations`: one window serves them all.
Duration WidestWindow(const std::vector<const spec::FormationSpec*>& formations);

// Whole seconds from `from` to `to`, never negative: durations as messages show them.
Duration SecondsBetween(TimePoint from, TimePoint to);

// Every formation unknown, for the same reason.
std::map<std::string, model::FormationLatency> AllUnknown(
    const std::vector<const spec::FormationSpec*>& formations, const std::string& reason);
// Every formation unknown because the source could not observe (FormationLatency::error).
std::map<std::string, model::FormationLatency> AllFailed(
    const std::vector<const spec::FormationSpec*>& formations, const std::string& error);

// Reads one formation (which declares latency) over the app's dynos of its type.
using FormationReader = std::function<model::FormationLatency(
    const spec::FormationSpec& formation, const std::vector<std::string>& dynos)>;

// Each formation's latency by `read`. `context`, when set, is appended to the reason of every
// unknown formation ("no router lines for web in the last 5m; <context>").
std::map<std::string, model::FormationLatency> ReadFormations(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState& app,
    const FormationReader& read, std::string_view context = {});

// The same from a window kept over WidestWindow(formations), each formation read over its own
// latency.window.
std::map<std::string, model::FormationLatency> ReadFormations(
    latency::SharedLatencyWindow& window, const std::vector<const spec::FormationSpec*>& formations,
    const model::AppState& app, TimePoint now, std::string_view context = {});

// Counts lines by what the parser made of them and tells `counter` in batches, so a metric's lock
// is not taken per line. Not thread-safe: one per reader.
class RouterLineTally {
 public:
  explicit RouterLineTally(const RouterLineCounter& counter) : counter_(counter) {}
  ~RouterLineTally() { Flush(); }
  RouterLineTally(const RouterLineTally&) = delete;
  RouterLineTally& operator=(const RouterLineTally&) = delete;

  void Count(latency::LineKind kind, int64_t n = 1) {
    pending_[static_cast<size_t>(kind)] += n;
    pending_total_ += n;
    if (pending_total_ >= kFlushEvery) Flush();
  }
  void Flush();

 private:
  static constexpr int64_t kFlushEvery = 1024;
  const RouterLineCounter& counter_;  // empty: counts are dropped
  std::array<int64_t, 3> pending_{};
  int64_t pending_total_ = 0;
};

}  // namespace dynoherd::providers::sources
