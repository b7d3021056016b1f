#include "controller/status_page.h"

#include <nlohmann/json.hpp>

namespace dynoherd::controller {

namespace {

using json = nlohmann::json;

json PassJson(const PassResult& pass) {
  json out = {
      {"startedAt", FormatTimestamp(pass.started_at)},
      {"finishedAt", FormatTimestamp(pass.finished_at)},
      {"durationSeconds", ToSeconds(pass.finished_at - pass.started_at)},
      {"result", pass.status.ok() ? "ok" : "error"},
      {"error", pass.status.ok() ? json(nullptr) : json(pass.status.message())},
      {"applied", pass.applied},
      {"plan", pass.plan ? reconciler::ToJson(*pass.plan) : json(nullptr)},
  };
  return out;
}

}  // namespace

std::string StatusJson(const std::vector<PolicySnapshot>& policies, TimePoint now) {
  json list = json::array();
  for (const PolicySnapshot& p : policies) {
    json entry = {
        {"name", p.policy->name},
        {"app", p.policy->app},
        {"provider", std::string(spec::Name(p.policy->provider))},
        {"paused", p.policy->paused},
        {"interval", FormatDuration(p.policy->interval)},
        {"passInProgress", p.pass_in_progress},
        {"consecutiveFailures", p.consecutive_failures},
        {"nextPassAt", p.next_pass_at ? json(FormatTimestamp(*p.next_pass_at)) : json(nullptr)},
        {"lastPass", p.last_pass ? PassJson(*p.last_pass) : json(nullptr)},
        {"status", p.status ? reconciler::ToJson(*p.status) : json(nullptr)},
    };
    list.push_back(std::move(entry));
  }
  json out = {{"generatedAt", FormatTimestamp(now)}, {"policies", std::move(list)}};
  // Messages from the outside world may hold invalid UTF-8: replace it rather than throw.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dynoherd::controller
