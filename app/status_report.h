// What `dynoherd status` shows: each policy as the state file knows it, for people (a table, the
// problems in words, the last actions) and for programs (JSON or YAML), in the shape the daemon's
// /status serves too (docs/schemas/status.schema.json).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "model/report.h"
#include "model/status.h"
#include "providers/state_store.h"
#include "spec/policy.h"

namespace dynoherd::app {

// One policy as the state file (or the daemon) knows it. Points into the store, the policies or
// the daemon's snapshot it was made from, which outlive it.
struct PolicyView {
  std::string name;
  std::string app;  // from the status or the -f file
  const model::PolicyStatus* status = nullptr;
  std::optional<model::PassRecord> record;
  std::string record_error;  // the record could not be read
  const spec::Policy* spec = nullptr;
  // What only the daemon knows; nullopt (JSON null) in `dynoherd status`.
  std::optional<bool> pass_in_progress;
  std::optional<int> consecutive_failures;
  std::optional<TimePoint> next_pass_at;
};

// The policies of `policies` in their order, with their spec, or every policy `store` reports
// when `policies` is null.
std::vector<PolicyView> StatusViews(const providers::StateStore& store,
                                    const std::vector<spec::Policy>* policies);

// Per formation: dynos (and how many are up), desired, baseline, latency, event, conditions that
// need attention, the last pass's age; then the problems and the last actions.
std::string RenderStatusText(const std::vector<PolicyView>& views, const std::string& state_path,
                             TimePoint now);
// {generatedAt, stateFile, policies: [{name, app, provider, paused, interval, passInProgress,
// consecutiveFailures, nextPassAt, lastPass, lastActions, status}]}, in the form of model/codec.h;
// null for what is not known (no -f, not the daemon, no pass yet). `state_path` null: a state
// that is not kept (a simulated run).
nlohmann::json StatusReportJson(const std::vector<PolicyView>& views,
                                const std::optional<std::string>& state_path, TimePoint now);
// The same as YAML, strings quoted so that no YAML reader takes a timestamp for something else.
std::string RenderStatusYaml(const std::vector<PolicyView>& views, const std::string& state_path,
                             TimePoint now);

}  // namespace dynoherd::app
