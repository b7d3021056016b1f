#include "tests/support/fake_heroku_process.h"

#include <httplib.h>
#include <signal.h>

namespace dynoherd::testing {

using namespace std::chrono_literals;

Result<std::unique_ptr<FakeHerokuProcess>> FakeHerokuProcess::Start(
    const std::string& scenario_yaml) {
  auto dir = std::make_unique<TempDir>();
  const std::string scenario = dir->Write("scenario.yaml", scenario_yaml);
  Result<Subprocess> process =
      Subprocess::Start(BuildPath("fake-heroku"), {.args = {"--scenario", scenario}});
  if (!process.ok()) return process.status();
  const std::string prefix = "listening on http://127.0.0.1:";
  if (!process->WaitForOutput(prefix, 10s)) {
    return Status::Unavailable("fake-heroku did not start: " + process->err());
  }
  const std::string& out = process->out();
  const int port = std::atoi(out.c_str() + out.find(prefix) + prefix.size());
  return std::unique_ptr<FakeHerokuProcess>(
      new FakeHerokuProcess(std::move(dir), std::move(process).value(), port));
}

FakeHerokuProcess::~FakeHerokuProcess() {
  (void)process_.Signal(SIGTERM);
  process_.Wait(10s);
}

std::map<std::string, std::string> FakeHerokuProcess::Env(const std::string& token) const {
  return {{"HEROKU_API_URL", url()}, {"HEROKU_API_KEY", token}};
}

Result<nlohmann::json> FakeHerokuProcess::GetJson(const std::string& path) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path.c_str());
  if (!res) return Status::Unavailable("GET " + path + ": no answer");
  if (res->status != 200) {
    return Status::Unavailable("GET " + path + ": " + std::to_string(res->status));
  }
  try {
    return nlohmann::json::parse(res->body);
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal("GET " + path + ": " + e.what());
  }
}

std::vector<nlohmann::json> FakeHerokuProcess::Requests(const std::string& method) {
  std::vector<nlohmann::json> out;
  Result<nlohmann::json> all = GetJson("/__admin/requests");
  if (!all.ok()) return out;
  for (const auto& r : *all) {
    if (method.empty() || r.value("method", "") == method) out.push_back(r);
  }
  return out;
}

nlohmann::json FakeHerokuProcess::State() {
  Result<nlohmann::json> state = GetJson("/__admin/state");
  return state.ok() ? *state : nlohmann::json();
}

Status FakeHerokuProcess::AddFault(const std::string& yaml) {
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Post("/__admin/faults", yaml, "application/yaml");
  if (!res) return Status::Unavailable("POST /__admin/faults: no answer");
  if (res->status / 100 != 2) {
    return Status::InvalidArgument("POST /__admin/faults: " + std::to_string(res->status) + " " +
                                   res->body);
  }
  return Status::Ok();
}

Status FakeHerokuProcess::RemoveFaults() {
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Delete("/__admin/faults");
  if (!res) return Status::Unavailable("DELETE /__admin/faults: no answer");
  if (res->status / 100 != 2) {
    return Status::Internal("DELETE /__admin/faults: " + std::to_string(res->status));
  }
  return Status::Ok();
}

std::optional<int> FakeHerokuProcess::Quantity(const std::string& app, const std::string& type) {
  nlohmann::json state = State();
  if (!state.contains("apps")) return std::nullopt;
  for (const auto& a : state["apps"]) {
    if (a.value("name", "") != app) continue;
    for (const auto& f : a["formations"]) {
      if (f.value("type", "") == type) return f.value("quantity", -1);
    }
  }
  return std::nullopt;
}

}  // namespace dynoherd::testing
