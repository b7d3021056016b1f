#include "app/status_page.h"

#include <nlohmann/json.hpp>

#include "app/report.h"
#include "model/codec.h"

namespace dynoherd::app {

using json = nlohmann::json;

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
        {"lastPass", p.last_pass ? PassResultJson(*p.last_pass) : json(nullptr)},
        {"status", p.status ? model::ToJson(*p.status) : json(nullptr)},
    };
    list.push_back(std::move(entry));
  }
  json out = {{"generatedAt", FormatTimestamp(now)}, {"policies", std::move(list)}};
  // Messages from the outside world may hold invalid UTF-8: replace it rather than throw.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dynoherd::app
