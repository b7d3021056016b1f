// How fast the simulator plays a scenario and how much memory it keeps: `simulate` must finish a
// 30-minute scenario in well under a second, and `run` must stay small however long it runs.
// Usage: build/bench/sim_bench [minutes]   (prints a Markdown table for docs/simulator.md)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/sim_world.h"

using namespace dynoherd;
using namespace dynoherd::sim;
using namespace std::chrono_literals;

namespace {

struct Scenario {
  std::string name;
  int web_dynos;
  double rps;
  bool incidents;
};

spec::SimSpec Build(const Scenario& s, Duration duration) {
  spec::SimSpec spec;
  spec.duration = duration;
  spec::SimFormationSpec web;
  web.type = "web";
  web.quantity = s.web_dynos;
  web.service_time = 120ms;
  web.rps = s.rps;
  spec::SimFormationSpec worker;
  worker.type = "worker";
  worker.quantity = 2;
  worker.job_time = 2s;
  worker.jobs_per_second = 0.8;
  spec.formations = {web, worker};
  if (s.incidents) {
    spec::SimIncidentSpec noisy;
    noisy.at = 3min;
    noisy.dyno = "web.3";
    noisy.factor = 4;
    spec::SimIncidentSpec surge;
    surge.at = 12min;
    surge.kind = spec::IncidentKind::kSurge;
    surge.formation = "web";
    surge.factor = 2.5;
    surge.duration = 8min;
    spec.incidents = {noisy, surge};
  }
  return spec;
}

long MaxRssKilobytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  const int minutes = argc > 1 ? std::atoi(argv[1]) : 30;
  if (minutes <= 0) {
    std::fprintf(stderr, "usage: sim_bench [minutes > 0]\n");
    return 1;
  }
  const std::vector<Scenario> scenarios = {
      {"demo (6 web, 40 rps, incidents)", 6, 40, true},
      {"8 web, 100 rps", 8, 100, false},
      {"60 web, 1000 rps", 60, 1000, false},
  };
  std::printf(
      "| scenario | simulated | requests | wall time | requests/s | model memory | max RSS |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Scenario& s : scenarios) {
    ManualClock clock(TimePoint{} + 24h * 365 * 56);
    auto world = SimWorld::Create("bench", Build(s, std::chrono::minutes(minutes)), clock);
    if (!world.ok()) {
      std::fprintf(stderr, "%s\n", world.status().ToString().c_str());
      return 1;
    }
    const auto wall_start = std::chrono::steady_clock::now();
    for (int minute = 1; minute <= minutes; ++minute) {  // one reconcile pass a minute
      clock.Advance(1min);
      (void)(*world)->Observe("bench");
      (void)(*world)->Latency("web", 5min, spec::Statistic::kP95);
      (void)(*world)->Latency("worker", 5min, spec::Statistic::kP95);
    }
    const double wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    const int64_t requests = (*world)->Truth("web")->latency.count;
    std::printf("| %s | %dm | %lld | %.0f ms | %.2g | %.2f MB | %.1f MB |\n", s.name.c_str(),
                minutes, static_cast<long long>(requests), wall_seconds * 1000,
                static_cast<double>(requests) / wall_seconds,
                static_cast<double>((*world)->MemoryBytes()) / 1e6,
                static_cast<double>(MaxRssKilobytes()) / 1e3);
  }
  return 0;
}
