#include "app/status_page.h"

#include <nlohmann/json.hpp>

#include "app/status_report.h"

namespace dynoherd::app {

using json = nlohmann::json;

std::string StatusJson(const std::vector<PolicySnapshot>& policies,
                       const std::optional<std::string>& state_path, TimePoint now) {
  std::vector<PolicyView> views;
  for (const PolicySnapshot& p : policies) {
    PolicyView v;
    v.name = p.policy->name;
    v.app = p.policy->app;
    v.spec = p.policy.get();
    v.status = p.status ? &*p.status : nullptr;
    v.record = p.record;
    v.pass_in_progress = p.pass_in_progress;
    v.consecutive_failures = p.consecutive_failures;
    v.next_pass_at = p.next_pass_at;
    views.push_back(std::move(v));
  }
  // Messages from the outside world may hold invalid UTF-8: replace it rather than throw.
  return StatusReportJson(views, state_path, now)
             .dump(2, ' ', false, json::error_handler_t::replace) +
         "\n";
}

}  // namespace dynoherd::app
