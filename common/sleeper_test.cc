#include "common/sleeper.h"

#include <doctest/doctest.h>

#include <thread>

using namespace dynoherd;
using namespace std::chrono_literals;

TEST_CASE("SystemSleeper: an interrupt ends a wait in progress and every later one") {
  SystemSleeper sleeper;
  std::thread stopper([&] { sleeper.Interrupt(); });
  // An hour-long wait that returns only because it is interrupted: no test waits it out.
  CHECK_FALSE(sleeper.Sleep(1h));
  stopper.join();
  CHECK_FALSE(sleeper.Sleep(1h));
}

TEST_CASE("ManualSleeper records each wait and moves its clock, taking no wall time") {
  ManualClock clock(TimePoint{} + 1000h);
  ManualSleeper sleeper(&clock);
  CHECK(sleeper.Sleep(2s));
  CHECK(sleeper.Sleep(500ms));
  CHECK(sleeper.waits() == std::vector<Duration>{2s, 500ms});
  CHECK(clock.Now() == TimePoint{} + 1000h + 2500ms);
  CHECK(sleeper.WaitForWaits(2, 0ms).size() == 2);
  sleeper.Interrupt();
  CHECK_FALSE(sleeper.Sleep(1s));
  CHECK(sleeper.waits().size() == 3);
  CHECK(clock.Now() == TimePoint{} + 1000h + 2500ms);  // an interrupted wait takes no time
}
