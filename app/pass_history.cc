#include "app/pass_history.h"

namespace dynoherd::app {

PassSample SamplePass(const spec::Policy& policy, const PassResult& pass) {
  PassSample sample{.at = pass.started_at, .ok = pass.status.ok()};
  for (const spec::FormationSpec& f : policy.formations) {
    FormationSample formation{.type = f.type};
    if (pass.observed) {
      if (const model::FormationState* state = pass.observation.FindFormation(f.type)) {
        formation.quantity = state->quantity;
      }
      if (auto it = pass.observation.latency.find(f.type); it != pass.observation.latency.end()) {
        formation.latency = it->second.value;
      }
    }
    sample.formations.push_back(std::move(formation));
  }
  if (pass.plan && pass.applied) {
    for (const reconciler::Action& a : pass.plan->actions) {
      sample.actions.push_back({a.formation, std::string(reconciler::Name(a.kind)), a.Summary(),
                                a.reason, a.failed ? a.error : std::string()});
    }
  }
  return sample;
}

void AddSample(std::deque<PassSample>& history, PassSample sample) {
  history.push_back(std::move(sample));
  while (history.size() > kMaxPassHistory)
    history.pop_front();
}

}  // namespace dynoherd::app
