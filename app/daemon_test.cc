// The run loop on a ManualClock with a fake pass: scheduling, backoff, concurrency, reload and
// stop, without the world and without waiting for time to pass. Waits are for the loop's threads
// to get somewhere, each bounded.
#include "app/daemon.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

using namespace dynoherd;
using namespace dynoherd::app;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0 = TimePoint{} + 1'795'352'400s;
constexpr auto kPatience = 10s;  // how long a test waits for another thread before failing

spec::Policy Policy(const std::string& name, Duration interval = 30s) {
  spec::Policy p;
  p.name = name;
  p.app = "shop";
  p.interval = interval;
  spec::FormationSpec web;
  web.type = "web";
  web.quantity = 2;
  p.formations.push_back(web);
  return p;
}

// Records what the daemon asked of the world and lets a test fail, block or break a policy's
// passes.
class FakePasses {
 public:
  FakePasses(const Clock& clock, metrics::Metrics& metrics) : clock_(clock), metrics_(metrics) {}

  PassResult Run(const spec::Policy& policy, const model::PolicyStatus* previous) {
    std::unique_lock lock(mu_);
    calls_.push_back({policy.name, clock_.Now(), previous != nullptr, policy.interval});
    cv_.notify_all();
    cv_.wait(lock, [&] { return !blocked_.contains(policy.name); });
    if (throwing_.contains(policy.name)) throw std::runtime_error("bug in the pass");
    PassResult r;
    r.policy = policy.name;
    r.app = policy.app;
    r.started_at = r.finished_at = clock_.Now();
    if (failing_.contains(policy.name)) {
      r.status = Status::Unavailable("observe app shop: 503 service unavailable");
    } else {
      r.observed = true;
      reconciler::Plan plan;
      plan.policy = policy.name;
      plan.app = policy.app;
      plan.planned_at = r.started_at;
      plan.status.policy = policy.name;
      plan.status.app = policy.app;
      plan.status.updated_at = r.started_at;
      r.plan = plan;
    }
    metrics_.RecordPass(policy.name, r.status.ok(), 0.01, r.finished_at);
    return r;
  }

  void Block(const std::string& name) { Set(blocked_, name, true); }
  void Release(const std::string& name) { Set(blocked_, name, false); }
  void Fail(const std::string& name) { Set(failing_, name, true); }
  void Throw(const std::string& name) { Set(throwing_, name, true); }
  void ReleaseAll() {
    std::lock_guard lock(mu_);
    blocked_.clear();
    cv_.notify_all();
  }

  size_t Count(const std::string& name) const {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count_if(calls_.begin(), calls_.end(),
                                             [&](const Call& c) { return c.policy == name; }));
  }
  // Waits until `name` had `n` passes started.
  bool WaitFor(const std::string& name, size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] {
      return std::count_if(calls_.begin(), calls_.end(),
                           [&](const Call& c) { return c.policy == name; }) >= std::ptrdiff_t(n);
    });
  }
  struct Call {
    std::string policy;
    TimePoint at;
    bool had_previous;
    Duration interval;
  };
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  void Set(std::set<std::string>& set, const std::string& name, bool on) {
    std::lock_guard lock(mu_);
    if (on) {
      set.insert(name);
    } else {
      set.erase(name);
    }
    cv_.notify_all();
  }

  const Clock& clock_;
  metrics::Metrics& metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::set<std::string> blocked_, failing_, throwing_;
};

struct Harness {
  explicit Harness(std::vector<spec::Policy> initial, DaemonOptions options = {},
                   providers::StateStore* store = nullptr)
      : policies(std::move(initial)) {
    DaemonHooks hooks;
    hooks.pass = [this](const spec::Policy& policy, PolicyRuntime&,
                        const model::PolicyStatus* previous, std::mt19937_64&,
                        const SaveStatus&) { return passes.Run(policy, previous); };
    hooks.build_runtime =
        [this](const spec::Policy& policy) -> Result<std::shared_ptr<PolicyRuntime>> {
      if (unbuildable.contains(policy.name)) {
        return Status::Unauthenticated("no Heroku API token: set HEROKU_API_KEY");
      }
      return std::make_shared<PolicyRuntime>();
    };
    hooks.load_policies = [this]() -> Result<std::vector<spec::Policy>> {
      std::lock_guard lock(mu);
      if (!reload_error.ok()) return reload_error;
      return reloaded;
    };
    hooks.interrupt_passes = [this] {
      ++interrupts;
      if (release_on_interrupt) passes.ReleaseAll();
    };
    hooks.tick = [this](TimePoint, const std::vector<std::string>&) {
      std::lock_guard lock(mu);
      ++turns;
      cv.notify_all();
      return TickResult{};
    };
    hooks.on_pass = [this](const PassResult&) {
      std::lock_guard lock(mu);
      ++recorded;
      cv.notify_all();
    };
    daemon = std::make_unique<Daemon>(options, clock, std::move(hooks), log, &metrics, store);
  }

  ~Harness() {
    passes.ReleaseAll();
    if (loop.joinable()) Stop();
  }

  void Start() {
    REQUIRE(daemon->Start(policies).ok());
    loop = std::thread([this] { outcome = daemon->Run(); });
  }

  RunOutcome Stop() {
    daemon->RequestStop("test");
    loop.join();
    return outcome;
  }

  bool WaitUntil(const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kPatience, done);
  }
  bool WaitRecorded(int n) {
    return WaitUntil([&] { return recorded >= n; });
  }

  // Returns once the loop has started every pass due at the clock's current time: two turns
  // begun after this call means the first of them has finished starting passes.
  void Settle() {
    int before = 0;
    {
      std::lock_guard lock(mu);
      before = turns;
    }
    for (int i = 1; i <= 2; ++i) {
      daemon->Wake();
      REQUIRE(WaitUntil([&] { return turns >= before + i; }));
    }
  }

  void Advance(Duration d) {
    clock.Advance(d);
    daemon->Wake();
  }

  PolicySnapshot SnapshotOf(const std::string& name) {
    for (auto& s : daemon->Snapshot()) {
      if (s.policy->name == name) return s;
    }
    FAIL("no policy " << name);
    return {};
  }

  ManualClock clock{kT0};
  CapturingLogger log;
  metrics::Metrics metrics{"test"};
  FakePasses passes{clock, metrics};
  std::vector<spec::Policy> policies;
  std::set<std::string> unbuildable;
  std::atomic<int> interrupts{0};
  std::atomic<bool> release_on_interrupt{false};

  std::mutex mu;
  std::condition_variable cv;
  int turns = 0;
  int recorded = 0;
  std::vector<spec::Policy> reloaded;
  Status reload_error;

  std::unique_ptr<Daemon> daemon;
  std::thread loop;
  RunOutcome outcome;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the first pass of every policy runs at start; /readyz waits for all of them") {
  Harness h({Policy("a"), Policy("b")});
  CHECK(h.daemon->Ready().reason == "policies not loaded yet");
  h.passes.Block("b");
  h.Start();
  REQUIRE(h.WaitRecorded(1));
  REQUIRE(h.passes.WaitFor("b", 1));
  Readiness waiting = h.daemon->Ready();
  CHECK_FALSE(waiting.ready);
  CHECK(waiting.reason == "waiting for the first pass of b");
  CHECK(h.SnapshotOf("b").pass_in_progress);

  h.passes.Release("b");
  REQUIRE(h.WaitRecorded(2));
  Readiness ready = h.daemon->Ready();
  CHECK(ready.ready);
  CHECK(ready.reason == "2 policies reconciled");
  PolicySnapshot a = h.SnapshotOf("a");
  REQUIRE(a.last_pass);
  CHECK(a.last_pass->status.ok());
  CHECK(a.status.has_value());
  CHECK(a.next_pass_at == kT0 + 30s);

  h.Stop();
  CHECK(h.daemon->Ready().reason == "shutting down");
}

TEST_CASE(
    "a policy passes again each interval, and not before; the next pass sees the last status") {
  Harness h({Policy("a", 30s)});
  h.Start();
  REQUIRE(h.WaitRecorded(1));
  h.clock.Advance(29s);
  h.Settle();
  CHECK(h.passes.Count("a") == 1);
  CHECK_FALSE(h.SnapshotOf("a").pass_in_progress);

  h.Advance(1s);
  REQUIRE(h.passes.WaitFor("a", 2));
  REQUIRE(h.WaitRecorded(2));
  h.Advance(30s);
  REQUIRE(h.passes.WaitFor("a", 3));
  auto calls = h.passes.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].at == kT0);
  CHECK(calls[1].at == kT0 + 30s);
  CHECK(calls[2].at == kT0 + 60s);
  CHECK_FALSE(calls[0].had_previous);
  CHECK(calls[1].had_previous);
}

TEST_CASE("a failing policy backs off exponentially without holding the others") {
  Harness h({Policy("broken", 60s), Policy("fine", 60s)});
  h.passes.Fail("broken");
  h.Start();
  REQUIRE(h.WaitRecorded(2));
  CHECK(h.SnapshotOf("broken").next_pass_at == kT0 + 5s);
  CHECK(h.log.Contains(LogLevel::kInfo, "retrying after a backoff"));

  h.Advance(5s);
  REQUIRE(h.passes.WaitFor("broken", 2));
  REQUIRE(h.WaitRecorded(3));
  CHECK(h.SnapshotOf("broken").next_pass_at == kT0 + 15s);
  CHECK(h.SnapshotOf("broken").consecutive_failures == 2);
  h.Advance(10s);
  REQUIRE(h.passes.WaitFor("broken", 3));
  REQUIRE(h.WaitRecorded(4));
  CHECK(h.SnapshotOf("broken").next_pass_at == kT0 + 35s);
  CHECK(h.passes.Count("fine") == 1);
  CHECK(h.SnapshotOf("fine").next_pass_at == kT0 + 60s);

  h.Advance(45s);  // kT0 + 60s: both are due
  REQUIRE(h.passes.WaitFor("fine", 2));
  REQUIRE(h.passes.WaitFor("broken", 4));
  std::string text = h.metrics.Serialize();
  CHECK(Has(text, "dynoherd_reconcile_total{policy=\"broken\",result=\"error\"} 4"));
  CHECK(Has(text, "dynoherd_reconcile_total{policy=\"fine\",result=\"ok\"} 2"));
}

TEST_CASE("a pass that hangs holds only its own policy") {
  Harness h({Policy("stuck", 30s), Policy("fine", 30s)});
  h.passes.Block("stuck");
  h.Start();
  REQUIRE(h.passes.WaitFor("stuck", 1));
  REQUIRE(h.WaitRecorded(1));
  for (int i = 2; i <= 4; ++i) {
    h.Advance(30s);
    REQUIRE(h.passes.WaitFor("fine", i));
    REQUIRE(h.WaitRecorded(i));
  }
  CHECK(h.passes.Count("stuck") == 1);  // never two passes of one policy at once
  h.passes.Release("stuck");
  REQUIRE(h.WaitRecorded(5));
  CHECK(h.passes.WaitFor("stuck", 2));  // overdue, so it runs again at once
}

TEST_CASE("no more passes run at once than the pool has threads") {
  DaemonOptions options;
  options.max_concurrent_passes = 2;
  Harness h({Policy("a"), Policy("b"), Policy("c")}, options);
  for (const char* name : {"a", "b", "c"})
    h.passes.Block(name);
  h.Start();
  REQUIRE(h.passes.WaitFor("a", 1));
  REQUIRE(h.passes.WaitFor("b", 1));
  h.Settle();
  CHECK(h.passes.Count("c") == 0);  // due, waiting for a free thread
  CHECK_FALSE(h.SnapshotOf("c").pass_in_progress);
  h.passes.Release("a");
  REQUIRE(h.passes.WaitFor("c", 1));
}

TEST_CASE("stop: passes in progress finish, their waits are interrupted, statuses are saved") {
  testing::TempDir dir;
  std::string path = (dir.path() / "state.json").string();
  auto store = providers::StateStore::Open(path);
  REQUIRE(store.ok());
  Harness h({Policy("a"), Policy("b")}, {}, store->get());
  h.passes.Block("a");
  h.release_on_interrupt = true;  // like RuntimeFactory::Shutdown waking a retry wait
  h.Start();
  REQUIRE(h.passes.WaitFor("a", 1));
  REQUIRE(h.WaitRecorded(1));

  RunOutcome outcome = h.Stop();
  CHECK(outcome.stop_reason == "test");
  CHECK(outcome.abandoned.empty());
  CHECK(h.interrupts == 1);
  CHECK(h.log.Contains(LogLevel::kInfo, "stopping"));
  auto saved = providers::StateStore::OpenReadOnly(path);
  REQUIRE(saved.ok());
  CHECK((*saved)->Policies() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("stop gives up on a pass that outlives the grace, or at a second request") {
  SUBCASE("the grace ends") {
    DaemonOptions options;
    options.shutdown_grace = 0ms;
    Harness h({Policy("a")}, options);
    h.passes.Block("a");
    h.Start();
    REQUIRE(h.passes.WaitFor("a", 1));
    RunOutcome outcome = h.Stop();
    CHECK(outcome.abandoned == std::vector<std::string>{"a"});
    CHECK(h.log.Contains(LogLevel::kWarn, "abandoning passes still in progress"));
  }
  SUBCASE("a second stop request") {
    DaemonOptions options;
    options.shutdown_grace = std::chrono::hours(1);
    Harness h({Policy("a")}, options);
    h.passes.Block("a");
    h.Start();
    REQUIRE(h.passes.WaitFor("a", 1));
    h.daemon->RequestStop("SIGINT");
    h.daemon->RequestStop("SIGINT");
    h.loop.join();
    CHECK(h.outcome.stop_reason == "SIGINT");
    CHECK(h.outcome.abandoned == std::vector<std::string>{"a"});
  }
}

TEST_CASE(
    "a valid reload replaces the set: new and changed policies pass at once, removed ones "
    "lose their series") {
  Harness h({Policy("kept"), Policy("changed"), Policy("removed")});
  h.Start();
  REQUIRE(h.WaitRecorded(3));
  CHECK(Has(h.metrics.Serialize(), "policy=\"removed\""));
  {
    std::lock_guard lock(h.mu);
    h.reloaded = {Policy("kept"), Policy("changed", 60s), Policy("added")};
  }
  h.clock.Advance(10s);
  h.daemon->RequestReload();
  REQUIRE(h.passes.WaitFor("added", 1));
  REQUIRE(h.passes.WaitFor("changed", 2));
  h.Settle();
  CHECK(h.passes.Count("kept") == 1);  // unchanged: keeps its schedule
  CHECK_FALSE(h.SnapshotOf("kept").pass_in_progress);
  CHECK(h.SnapshotOf("kept").next_pass_at == kT0 + 30s);
  CHECK_FALSE(h.daemon->HasPolicy("removed"));
  CHECK(h.daemon->PolicyNames() == std::vector<std::string>{"added", "changed", "kept"});
  CHECK_FALSE(Has(h.metrics.Serialize(), "policy=\"removed\""));
  // "added" and "changed" pass at once, on two workers: find the changed one's last pass.
  std::optional<Duration> changed_interval;
  for (const auto& call : h.passes.calls()) {
    if (call.policy == "changed") changed_interval = call.interval;
  }
  CHECK(changed_interval == 60s);
  bool logged = false;
  for (const auto& e : h.log.entries()) {
    if (e.msg != "policies reloaded") continue;
    logged = true;
    CHECK(e.Field("added") == "added");
    CHECK(e.Field("changed") == "changed");
    CHECK(e.Field("removed") == "removed");
  }
  CHECK(logged);
  CHECK_FALSE(Has(h.metrics.Serialize(), "dynoherd_spec_reload_errors_total 1"));
}

TEST_CASE("an invalid reload is rejected with an ERROR; the old set keeps running") {
  Harness h({Policy("a", 30s)});
  h.Start();
  REQUIRE(h.WaitRecorded(1));

  SUBCASE("the files do not load") {
    std::lock_guard lock(h.mu);
    h.reload_error = Status::InvalidArgument("a.yaml:7:13: spec.interval: must be >= 10s (got 5s)");
  }
  SUBCASE("a runtime cannot be built") {
    std::lock_guard lock(h.mu);
    h.reloaded = {Policy("a"), Policy("needs-token")};
    h.unbuildable.insert("needs-token");
  }
  h.daemon->RequestReload();
  h.Settle();
  bool logged = false;
  for (const auto& e : h.log.entries()) {
    if (e.level != LogLevel::kError) continue;
    CHECK(e.msg == "reload rejected; the previous policies keep running");
    logged = true;
    CHECK((Has(e.Field("error"), "must be >= 10s") || Has(e.Field("error"), "needs-token")));
  }
  CHECK(logged);
  CHECK(Has(h.metrics.Serialize(), "dynoherd_spec_reload_errors_total 1"));
  CHECK(h.daemon->PolicyNames() == std::vector<std::string>{"a"});

  h.Advance(30s);  // the old policy still runs on its schedule
  REQUIRE(h.passes.WaitFor("a", 2));
}

TEST_CASE("a pass that throws is a failure of its policy, not of the daemon") {
  Harness h({Policy("buggy"), Policy("fine")});
  h.passes.Throw("buggy");
  h.Start();
  REQUIRE(h.WaitRecorded(2));
  PolicySnapshot buggy = h.SnapshotOf("buggy");
  REQUIRE(buggy.last_pass);
  CHECK(buggy.last_pass->status.message() == "pass threw: bug in the pass");
  CHECK(buggy.consecutive_failures == 1);
  CHECK(h.SnapshotOf("fine").last_pass->status.ok());
}

TEST_CASE("a tick hook can end the run and ask for its next turn") {
  ManualClock clock(kT0);
  CapturingLogger log;
  std::atomic<int> ticks{0};
  DaemonHooks hooks;
  hooks.pass = [&](const spec::Policy& p, PolicyRuntime&, const model::PolicyStatus*,
                   std::mt19937_64&, const SaveStatus&) {
    PassResult r;
    r.policy = p.name;
    r.started_at = r.finished_at = clock.Now();
    return r;
  };
  hooks.build_runtime = [](const spec::Policy&) -> Result<std::shared_ptr<PolicyRuntime>> {
    return std::make_shared<PolicyRuntime>();
  };
  hooks.tick = [&](TimePoint now, const std::vector<std::string>& names) {
    CHECK(names == std::vector<std::string>{"a"});
    ++ticks;
    TickResult r;
    r.stop = now >= kT0 + 1min;
    r.stop_reason = "simulation finished";
    r.next = now + 1s;
    return r;
  };
  Daemon daemon({}, clock, hooks, log, nullptr, nullptr);
  REQUIRE(daemon.Start({Policy("a")}).ok());
  clock.Advance(1min);  // already over: the first turn ends the run
  RunOutcome outcome = daemon.Run();
  CHECK(outcome.stop_reason == "simulation finished");
  CHECK(ticks == 1);
}

TEST_CASE("Start refuses an empty set and a runtime that cannot be built") {
  Harness empty({});
  CHECK(empty.daemon->Start({}).message() == "no policies to run");
  Harness h({Policy("needs-token")});
  h.unbuildable.insert("needs-token");
  Status s = h.daemon->Start(h.policies);
  CHECK(s.message() == "policy needs-token: no Heroku API token: set HEROKU_API_KEY");
}

TEST_CASE("with first_pass_after_interval, policies first pass one interval after they start") {
  DaemonOptions options;
  options.first_pass_after_interval = true;
  Harness h({Policy("a", 30s)}, options);
  h.Start();
  h.Settle();
  CHECK(h.passes.Count("a") == 0);
  CHECK(h.SnapshotOf("a").next_pass_at == kT0 + 30s);
  CHECK(h.daemon->Ready().reason == "waiting for the first pass of a");
  h.Advance(30s);
  REQUIRE(h.passes.WaitFor("a", 1));
  CHECK(h.passes.calls()[0].at == kT0 + 30s);
}
