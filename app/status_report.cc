#include "app/status_report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "app/pass_record.h"
#include "app/text_table.h"
#include "model/codec.h"

namespace dynoherd::app {

namespace {

using model::ConditionStatus;
using nlohmann::json;

// "45s", "17m", "5h", "3d": an age as kubectl prints it.
std::string Age(TimePoint then, TimePoint now) {
  const int64_t s =
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - then).count());
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// The formation types to show, in the most meaningful order: the spec's, else the last pass's,
// else the status's.
std::vector<std::string> FormationTypes(const PolicyView& p) {
  std::vector<std::string> types;
  auto add = [&types](const std::string& type) {
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  };
  if (p.spec) {
    for (const auto& f : p.spec->formations)
      add(f.type);
    return types;
  }
  if (p.record) {
    for (const auto& f : p.record->last_pass.formations)
      add(f.type);
  }
  if (p.status) {
    for (const auto& f : p.status->formations)
      add(f.type);
  }
  return types;
}

bool Healthy(const model::Condition& c) {
  if (c.type == model::kReady) return c.status == ConditionStatus::kTrue;
  return c.status == ConditionStatus::kFalse;
}

std::string ConditionsCell(const model::FormationStatus* fs, TimePoint now) {
  if (!fs || fs->conditions.empty()) return "-";
  std::vector<std::string> problems;
  for (const auto& c : fs->conditions) {
    if (!Healthy(c)) {
      problems.push_back(c.type + "=" + std::string(model::Name(c.status)) + " " +
                         Age(c.last_transition_time, now));
    }
  }
  if (!problems.empty()) {
    std::string out;
    for (const auto& p : problems)
      out += (out.empty() ? "" : ", ") + p;
    return out;
  }
  const model::Condition* ready = model::FindCondition(fs->conditions, model::kReady);
  return ready ? "Ready " + Age(ready->last_transition_time, now) : "-";
}

// "ok 3m ago", "failed 10s ago", "never"; a failed pass is also a problem.
std::string LastPassCell(const PolicyView& p, TimePoint now, std::vector<std::string>& problems) {
  if (p.record) {
    const model::PassReport& last = p.record->last_pass;
    if (!last.ok) {
      problems.push_back(p.name + ": last pass " + Age(last.finished_at, now) +
                         " ago failed: " + last.error.value_or("unknown error"));
    }
    return std::string(last.ok ? "ok" : "failed") + " " + Age(last.finished_at, now) + " ago";
  }
  if (p.status) return Age(p.status->updated_at, now) + " ago";
  return "never";
}

// The row of one formation; its conditions that need attention are problems.
std::vector<std::string> FormationRow(const PolicyView& p, const std::string& type,
                                      const std::string& last_pass, TimePoint now,
                                      std::vector<std::string>& problems) {
  const model::FormationStatus* fs = p.status ? p.status->FindFormation(type) : nullptr;
  const model::FormationReport* fr = nullptr;
  if (p.record) {
    for (const auto& f : p.record->last_pass.formations) {
      if (f.type == type) fr = &f;
    }
  }
  std::string dynos = "-", desired = "-", baseline = "-", latency = "-", event = "-";
  if (fr) {
    if (fr->observed_quantity) {
      dynos = std::to_string(*fr->observed_quantity);
      if (fr->DynosUp() != *fr->observed_quantity) {
        dynos += " (" + std::to_string(fr->DynosUp()) + " up)";
      }
    } else {
      dynos = "missing";
    }
    if (fr->desired_quantity) desired = std::to_string(*fr->desired_quantity);
    if (fr->baseline) {
      baseline = std::to_string(*fr->baseline);
      if (fr->baseline_kind == "captured") baseline += " captured";
    }
    if (fr->latency) {
      latency = fr->latency->statistic + " " +
                (fr->latency->seconds ? FormatLatency(*fr->latency->seconds) : "unknown");
    }
  }
  if (fs && fs->event.started_at) {
    event = "+" + std::to_string(fs->event.depth) + " for " + Age(*fs->event.started_at, now);
  }
  if (fs) {
    for (const auto& c : fs->conditions) {
      // Unknown is a consequence (latency unknown), explained by Degraded's message.
      if (Healthy(c) || c.status == ConditionStatus::kUnknown || c.message.empty()) continue;
      problems.push_back(p.name + "/" + type + ": " + c.type + "=" +
                         std::string(model::Name(c.status)) + " for " +
                         Age(c.last_transition_time, now) + ": " + c.message);
    }
  }
  return {p.name,   type, dynos, desired, baseline, latency, event, ConditionsCell(fs, now),
          last_pass};
}

// "shop/web  3m ago  scale 4 -> 5  latency event: ..." per action of the last pass that acted.
void AddLastActions(const PolicyView& p, TimePoint now, std::vector<std::string>& actions) {
  if (!p.record || !p.record->last_actions) return;
  const model::LastActions& last = *p.record->last_actions;
  for (const auto& a : last.actions) {
    std::string line =
        p.name + "/" + a.formation + "  " + Age(last.at, now) + " ago  " + a.summary + "  " + a.reason;
    if (a.failed) line += " (failed: " + a.error.value_or("unknown error") + ")";
    actions.push_back(std::move(line));
  }
}

// "shop/worker  default 42s (17 jobs), mailers 0s (0 jobs)" per formation fed by Sidekiq.
void AddQueues(const PolicyView& p, std::vector<std::string>& lines) {
  if (!p.record) return;
  for (const auto& f : p.record->last_pass.formations) {
    if (f.latency && !f.latency->queues.empty())
      lines.push_back(p.name + "/" + f.type + "  " + model::QueuesText(f.latency->queues));
  }
}

std::string Section(const std::string& title, const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  std::string out = "\n" + title + ":\n";
  for (const auto& line : lines)
    out += "  " + line + "\n";
  return out;
}

void EmitYaml(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {
        out << YAML::Key << key << YAML::Value;
        EmitYaml(out, value);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& value : j)
        EmitYaml(out, value);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      // Quoted, so timestamps and numbers in words stay strings for every YAML reader.
      out << YAML::DoubleQuoted << j.get<std::string>();
      break;
    case json::value_t::boolean:
      out << j.get<bool>();
      break;
    case json::value_t::null:
      out << YAML::Null;
      break;
    default:  // numbers
      out << j.dump();
  }
}

}  // namespace

std::vector<PolicyView> StatusViews(const providers::StateStore& store,
                                    const std::vector<spec::Policy>* policies) {
  auto view = [&store](const std::string& name) {
    PolicyView v;
    v.name = name;
    v.status = store.Find(name);
    if (v.status) v.app = v.status->app;
    Result<std::optional<model::PassRecord>> record = StoredPassRecord(store, name);
    if (record.ok()) {
      v.record = std::move(record).value();
    } else {
      v.record_error = "the last-pass record cannot be read: " + record.status().message();
    }
    return v;
  };
  std::vector<PolicyView> views;
  if (policies) {
    for (const spec::Policy& policy : *policies) {
      PolicyView v = view(policy.name);
      v.app = policy.app;
      v.spec = &policy;
      views.push_back(std::move(v));
    }
  } else {
    for (const std::string& name : store.ReportedPolicies())
      views.push_back(view(name));
  }
  return views;
}

std::string RenderStatusText(const std::vector<PolicyView>& views, const std::string& state_path,
                             TimePoint now) {
  if (views.empty()) {
    return "No policy has a status in " + state_path +
           " yet: `dynoherd reconcile` (or `run`) writes it.\n";
  }
  TextTable table({{"POLICY"},
                   {"FORMATION"},
                   {"DYNOS"},
                   {"DESIRED"},
                   {"BASELINE"},
                   {"LATENCY"},
                   {"EVENT"},
                   {"CONDITIONS"},
                   {"LAST PASS"}});
  std::vector<std::string> problems;
  std::vector<std::string> actions;
  std::vector<std::string> queues;
  for (const PolicyView& p : views) {
    const std::string last_pass = LastPassCell(p, now, problems);
    if (!p.record_error.empty()) problems.push_back(p.name + ": " + p.record_error);
    std::vector<std::string> types = FormationTypes(p);
    if (types.empty()) table.AddRow({p.name, "-", "-", "-", "-", "-", "-", "-", last_pass});
    for (const std::string& type : types)
      table.AddRow(FormationRow(p, type, last_pass, now, problems));
    AddLastActions(p, now, actions);
    AddQueues(p, queues);
  }
  return table.Render("") + Section("Sidekiq queues", queues) + Section("Problems", problems) +
         Section("Last actions", actions);
}

json StatusReportJson(const std::vector<PolicyView>& views,
                      const std::optional<std::string>& state_path, TimePoint now) {
  json policies = json::array();
  for (const PolicyView& p : views) {
    const spec::Policy* spec = p.spec;
    policies.push_back(
        {{"name", p.name},
         {"app", p.app},
         {"provider", spec ? json(spec::Name(spec->provider)) : json(nullptr)},
         {"paused", spec ? json(spec->paused) : json(nullptr)},
         {"interval", spec ? json(FormatDuration(spec->interval)) : json(nullptr)},
         {"passInProgress", p.pass_in_progress ? json(*p.pass_in_progress) : json(nullptr)},
         {"consecutiveFailures",
          p.consecutive_failures ? json(*p.consecutive_failures) : json(nullptr)},
         {"nextPassAt", model::TimeOrNull(p.next_pass_at)},
         {"lastPass", p.record ? model::ToJson(p.record->last_pass) : json(nullptr)},
         {"lastActions", p.record && p.record->last_actions
                             ? model::ToJson(*p.record->last_actions)
                             : json(nullptr)},
         {"status", p.status ? model::ToJson(*p.status) : json(nullptr)}});
  }
  return {{"generatedAt", FormatTimestamp(now)},
          {"stateFile", state_path ? json(*state_path) : json(nullptr)},
          {"policies", std::move(policies)}};
}

std::string RenderStatusYaml(const std::vector<PolicyView>& views, const std::string& state_path,
                             TimePoint now) {
  YAML::Emitter emitter;
  EmitYaml(emitter, StatusReportJson(views, state_path, now));
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace dynoherd::app
