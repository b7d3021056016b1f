// Dyno names as the router writes them, and the formation (process type) a name belongs to.
#pragma once

#include <string_view>

namespace dynoherd::latency {

// Longest dyno name accepted from a log line; longer names are treated as garbage.
inline constexpr size_t kMaxDynoNameBytes = 64;

// True for names made of letters, digits, '.', '_' and '-', 1 to kMaxDynoNameBytes long:
// "web.3", "worker_2.10", "web-1234abcde-123ab". Anything else in a dyno= value is hostile or
// broken.
bool IsValidDynoName(std::string_view name);

// The formation (process type) of a dyno when no dyno list from the Platform API is at hand:
//   "web.3" -> "web", "run.1234" -> "run"            (type "." number)
//   "web-1234abcde-123ab" -> "web"                   (newer "Fir" apps: type "-" hash "-" suffix)
//   "my-worker-59c7b8d4f6-x7k2q" -> "my-worker"
// A name that matches neither shape is its own formation. The result is a view into `dyno`.
// Callers that know the dynos (Observation::dynos) should pass that list instead: it is
// authoritative.
std::string_view FormationOfDyno(std::string_view dyno);

}  // namespace dynoherd::latency
