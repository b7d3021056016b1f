// Crash points: a test hook that kills the process at a named point of a pass, so the end-to-end
// tests can show that a crash anywhere loses nothing (docs/operations.md, "Crash points and
// guarantees"). DYNOHERD_CRASH_AT=<point>[:<n>] kills the process with SIGKILL the n-th time
// (default: the first) it reaches <point>, after one line on stderr naming the point.
//
// An environment variable rather than a build flag: the tests crash the binary that ships, not a
// variant of it. Unset (always, outside tests), a crash point is one comparison and never fires.
#pragma once

#include <string_view>

namespace dynoherd {

// The points, in the order a pass reaches them.
inline constexpr std::string_view kCrashAfterObserve = "after-observe";
inline constexpr std::string_view kCrashAfterIntent = "after-intent";
inline constexpr std::string_view kCrashBeforeRename = "before-rename";
inline constexpr std::string_view kCrashAfterRename = "after-rename";
// Of an HTTP request, "<stage>-<method in lower case>": mid-patch (the platform has begun to
// answer, so it has applied the request, and the answer is not read yet), after-patch (the answer
// is read), mid-delete, after-delete, mid-get...
inline constexpr std::string_view kCrashMidRequest = "mid";
inline constexpr std::string_view kCrashAfterRequest = "after";

// Kills the process (SIGKILL: no destructor, flush or handler runs) when DYNOHERD_CRASH_AT names
// `point` and this is its n-th arrival. Thread-safe.
void CrashPoint(std::string_view point);
void RequestCrashPoint(std::string_view stage, std::string_view method);

}  // namespace dynoherd
