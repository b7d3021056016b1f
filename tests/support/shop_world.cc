#include "tests/support/shop_world.h"

#include <doctest/doctest.h>

namespace dynoherd::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string Scenario() {
  return std::string("token: ") + kShopToken +
         "\napps:\n  - name: shop\n    restartDelay: 20s\n    formations:\n"
         "      - {type: worker, quantity: 2}\n      - {type: web, quantity: 5}\n"
         "    logs:\n      window: 5m\n      default: {medianMs: 120, count: 200, spread: 0.3}\n"
         "      dynos:\n        web.3: {laggardFactor: 5}\n";
}

// Queue latency above 5s starts an event (one more worker per 10s, at most 3); below 2s it ends
// and the captured baseline is restored at once.
std::string Policy(const std::string& prometheus_url, bool laggards) {
  std::string policy =
      "apiVersion: dynoherd/v1\nkind: FormationPolicy\nmetadata: {name: shop-worker}\n"
      "spec:\n  app: shop\n  interval: 10s\n  formations:\n    - type: worker\n"
      "      latency: {source: prometheus, url: '" +
      prometheus_url +
      "', query: 'queue_latency_seconds', window: 1m, statistic: max}\n"
      "      autoscale: {latencyThreshold: 5s, restoredThreshold: 2s, alertInterval: 10s,\n"
      "                  maxExtraWorkers: 3, restoreDelay: 0s}\n";
  if (laggards) {
    policy += "    - type: web\n      latency: {source: router-logs}\n"
              "      laggards: {minSamples: 20}\n";
  }
  return policy;
}

}  // namespace

FakePrometheus::FakePrometheus() {
  server_.Get("/api/v1/query", [this](const httplib::Request&, httplib::Response& res) {
    json sample = {{"metric", json::object()},
                   {"value", {1795352400, std::to_string(seconds_.load())}}};
    res.set_content(json{{"status", "success"},
                         {"data", {{"resultType", "vector"}, {"result", {sample}}}}}
                        .dump(),
                    "application/json");
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  serving_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server_.is_running(); ++i)
    std::this_thread::sleep_for(1ms);
}

FakePrometheus::~FakePrometheus() {
  server_.stop();
  serving_.join();
}

ShopWorld::ShopWorld(bool laggards) {
  auto started = FakeHerokuProcess::Start(Scenario());
  REQUIRE_MESSAGE(started.ok(), started.status().message());
  fake = std::move(started).value();
  state = (dir.path() / "state.json").string();
  policy = dir.Write("shop-worker.yaml", Policy(prometheus.url(), laggards));
}

ProcessOptions ShopWorld::Options(std::vector<std::string> args) const {
  args.insert(args.end(), {"-f", policy, "--state", state});
  return {.args = std::move(args), .env = fake->Env(kShopToken)};
}

ProcessResult ShopWorld::Run(std::vector<std::string> args) const {
  return RunProcess(DynoherdBinary(), Options(std::move(args)));
}

bool ShopWorld::WaitQuantity(int quantity, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fake->Quantity("shop", "worker") == quantity) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

json ShopWorld::SavedFormation() const {
  std::string text = ReadFile(state);
  if (text.empty()) return nullptr;
  json saved = json::parse(text, nullptr, false);
  if (saved.is_discarded() || !saved["policies"].contains("shop-worker")) return nullptr;
  for (const json& f : saved["policies"]["shop-worker"]["formations"]) {
    if (f["type"] == "worker") return f;
  }
  return nullptr;
}

std::vector<int> ShopWorld::PatchedQuantities() {
  std::vector<int> out;
  for (const json& r : fake->Requests("PATCH")) {
    json body = json::parse(r["body"].get<std::string>(), nullptr, false);
    if (body.is_discarded()) continue;
    for (const json& u : body.value("updates", json::array()))
      out.push_back(u.value("quantity", -1));
  }
  return out;
}

std::vector<std::string> ShopWorld::Deleted() {
  std::vector<std::string> out;
  for (const json& r : fake->Requests("DELETE"))
    out.push_back(r["path"]);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace dynoherd::testing
