// build/fake-heroku as a child process, for end-to-end tests of the real binary: start it on a
// scenario, point dynoherd at it (Env()), read what it recorded through its admin routes.
//
//   auto fake = FakeHerokuProcess::Start(scenario_yaml);
//   REQUIRE(fake.ok());
//   RunProcess(DynoherdBinary(), {.args = {...}, .env = (*fake)->Env()});
//   CHECK((*fake)->Requests("PATCH").size() == 1);
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace dynoherd::testing {

class FakeHerokuProcess {
 public:
  // Writes `scenario_yaml` to a temporary file and starts build/fake-heroku on it (system clock,
  // any free port), waiting until it listens.
  static Result<std::unique_ptr<FakeHerokuProcess>> Start(const std::string& scenario_yaml);
  ~FakeHerokuProcess();  // SIGTERM, then reaped

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // HEROKU_API_URL and HEROKU_API_KEY for dynoherd (`token` is the scenario's, unless overridden).
  std::map<std::string, std::string> Env(const std::string& token) const;

  // GET /__admin/requests, optionally only those of one method (e.g. "PATCH").
  std::vector<nlohmann::json> Requests(const std::string& method = "");
  nlohmann::json State();                    // GET /__admin/state
  Status AddFault(const std::string& yaml);  // POST /__admin/faults
  Status RemoveFaults();                     // DELETE /__admin/faults
  std::optional<int> Quantity(const std::string& app, const std::string& type);

 private:
  FakeHerokuProcess(std::unique_ptr<TempDir> dir, Subprocess process, int port)
      : dir_(std::move(dir)), process_(std::move(process)), port_(port) {}
  Result<nlohmann::json> GetJson(const std::string& path);

  std::unique_ptr<TempDir> dir_;
  Subprocess process_;
  int port_;
};

}  // namespace dynoherd::testing
