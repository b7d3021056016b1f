#include "common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace dynoherd {

namespace {

struct CrashTarget {
  std::string point;  // empty: no crash point armed
  long arrival = 1;
  std::atomic<long> arrivals{0};
};

// Read once: the variable belongs to the process, like a fault-injecting Env chosen at start.
CrashTarget& Target() {
  static CrashTarget* target = [] {
    auto* t = new CrashTarget;  // never freed: a crash point may be reached during exit
    const char* value = std::getenv("DYNOHERD_CRASH_AT");
    if (value == nullptr) return t;
    std::string spec(value);
    if (size_t colon = spec.rfind(':'); colon != std::string::npos) {
      t->arrival = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
      spec.resize(colon);
    }
    if (t->arrival >= 1) t->point = spec;
    return t;
  }();
  return *target;
}

}  // namespace

void CrashPoint(std::string_view point) {
  CrashTarget& t = Target();
  if (t.point.empty() || t.point != point) return;
  if (t.arrivals.fetch_add(1) + 1 != t.arrival) return;
  const std::string line = "dynoherd: crash point " + std::string(point) + " reached\n";
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
}

void RequestCrashPoint(std::string_view stage, std::string_view method) {
  if (Target().point.empty()) return;
  std::string point(stage);
  point += '-';
  for (char c : method)
    point += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  CrashPoint(point);
}

}  // namespace dynoherd
