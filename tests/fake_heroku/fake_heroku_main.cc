// build/fake-heroku: the fake Platform API as a process, for end-to-end tests of the real binary.
//   fake-heroku --scenario FILE [--port N] [--port-file PATH] [--clock system|manual]
// Prints "fake-heroku listening on http://127.0.0.1:PORT" once it accepts connections, serves until
// SIGINT or SIGTERM, and exits 0. Exit 2: bad flags or scenario; 1: cannot listen.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "tests/fake_heroku/fake_heroku.h"

using namespace dynoherd;
using namespace dynoherd::fake_heroku;

namespace {

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!(out << port << "\n")) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // readers never see a half-written file
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A fake Heroku Platform API and logplex for tests (see tests/fake_heroku/README.md)",
               "fake-heroku"};
  std::string scenario_path;
  int port = 0;
  std::string port_file;
  std::string clock_kind = "system";
  app.add_option("--scenario", scenario_path, "Scenario file (YAML or JSON)")->required();
  app.add_option("--port", port, "Port on 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--port-file", port_file, "Write the bound port to this file once listening");
  app.add_option("--clock", clock_kind,
                 "system, or manual: starts at the scenario's startTime and moves only on "
                 "POST /__admin/clock/advance")
      ->check(CLI::IsMember({"system", "manual"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Result<Scenario> scenario = LoadScenario(scenario_path);
  if (!scenario.ok()) {
    std::fprintf(stderr, "fake-heroku: %s\n", scenario.status().message().c_str());
    return 2;
  }

  // Signals are taken synchronously by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SystemClock system_clock;
  ManualClock manual_clock(scenario->start_time);
  const bool manual = clock_kind == "manual";
  const Clock& clock = manual ? static_cast<const Clock&>(manual_clock) : system_clock;

  Result<std::unique_ptr<FakeHeroku>> fake = FakeHeroku::Start(*std::move(scenario), clock, port);
  if (!fake.ok()) {
    std::fprintf(stderr, "%s\n", fake.status().message().c_str());
    return 1;
  }
  (*fake)->EnableAdminRoutes(manual ? &manual_clock : nullptr);
  if (!port_file.empty() && !WritePortFile(port_file, (*fake)->port())) {
    std::fprintf(stderr, "fake-heroku: cannot write %s\n", port_file.c_str());
    return 1;
  }
  std::printf("fake-heroku listening on %s\n", (*fake)->base_url().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*fake)->Stop();
  return 0;
}
