#include "model/status_validation.h"

#include <doctest/doctest.h>

using namespace dynoherd;
using namespace dynoherd::model;

namespace {

const TimePoint kNow = *ParseTimestamp("2026-11-22T13:00:00Z");

spec::FormationSpec Captured() {
  spec::FormationSpec f;
  f.type = "web";
  f.latency = spec::LatencySpec{};
  f.autoscale = spec::AutoscaleSpec{};
  f.laggards = spec::LaggardSpec{};
  return f;
}

FormationStatus InEvent() {
  FormationStatus s;
  s.type = "web";
  s.event.started_at = kNow - 10min;
  s.event.last_step_at = kNow - 5min;
  s.event.depth = 1;
  s.event.captured_baseline = 3;
  s.restarts.push_back({"web.3", kNow - 1h, spec::LaggardAction::kRestart, "laggard"});
  WriteIntent scale;
  scale.id = "2026-11-22T12:59:00.000Z#0";
  scale.at = kNow - 1min;
  scale.from_quantity = 4;
  scale.to_quantity = 5;
  s.intents.push_back(scale);
  return s;
}

FormationStatus Empty() {
  FormationStatus s;
  s.type = "web";
  return s;
}

std::string Problems(const FormationStatus& s, const spec::FormationSpec& f = Captured()) {
  std::string out;
  for (const auto& p : ValidateFormationStatus(s, f, kNow))
    out += p + "\n";
  return out;
}

}  // namespace

TEST_CASE("a status as a pass leaves it is valid") {
  CHECK(Problems(InEvent()) == "");
  CHECK(Problems(Empty()) == "");
}

TEST_CASE("saved values outside the spec's ranges are problems naming the field") {
  FormationStatus s = InEvent();
  s.event.captured_baseline = -3;
  CHECK(Problems(s) == "event.capturedBaseline: -3 is not in 0..1000\n");
  s.event.captured_baseline = 2000000000;
  CHECK(Problems(s) == "event.capturedBaseline: 2000000000 is not in 0..1000\n");
  s = InEvent();
  s.event.depth = 101;
  CHECK(Problems(s) == "event.depth: 101 is not in 0..100\n");
  s = InEvent();
  s.intents[0].to_quantity = -1;
  CHECK(Problems(s) == "intents[0].to: -1 is not in 0..1100\n");
  s.intents[0].to_quantity = 4;
  CHECK(Problems(s) == "intents[0]: a scale from 4 to itself\n");
}

TEST_CASE("times later than now beyond the clocks' allowance are not trusted") {
  FormationStatus s = InEvent();
  s.restarts[0].at = kNow + 4min;  // within the allowance
  CHECK(Problems(s) == "");
  s.restarts[0].at = kNow + 1h;
  CHECK(Problems(s) ==
        "restarts[0].at: 2026-11-22T14:00:00.000Z is in the future (now 2026-11-22T13:00:00.000Z)\n");
  s = InEvent();
  s.event.last_step_at = kNow - 20min;
  CHECK(Problems(s) == "event.lastStepAt: 2026-11-22T12:40:00.000Z is before the event started "
                       "(2026-11-22T12:50:00.000Z)\n");
}

TEST_CASE("what does not fit the policy is a problem") {
  spec::FormationSpec declared = Captured();
  declared.quantity = 4;
  CHECK(Problems(InEvent(), declared) ==
        "event.capturedBaseline: 3 is for formations without a declared quantity, and this one "
        "declares 4\n");
  spec::FormationSpec plain;
  plain.type = "web";
  FormationStatus s = InEvent();
  s.event.captured_baseline.reset();
  CHECK(Problems(s, plain) ==
        "event.startedAt: an event in progress, and this formation has no autoscale\n");
  s = Empty();
  s.event.depth = 2;
  CHECK(Problems(s) == "event.depth: 2 outside an event\n");
}

TEST_CASE("histories and intents are bounded, dyno names are not empty") {
  FormationStatus s = Empty();
  s.restarts.assign(kMaxRestartHistory + 1, {"web.1", kNow, spec::LaggardAction::kRestart, ""});
  CHECK(Problems(s) == "restarts: 21 entries, at most 20 are kept\n");
  s = Empty();
  WriteIntent restart;
  restart.id = "x";
  restart.kind = WriteKind::kRestart;
  restart.at = kNow;
  s.intents.push_back(restart);
  CHECK(Problems(s) == "intents[0].dyno: a dyno name must have 1 to 128 characters\n");
  s.intents[0].id.clear();
  s.intents[0].dyno = "web.1";
  CHECK(Problems(s) == "intents[0].id: empty\n");
}
