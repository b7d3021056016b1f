// `dynoherd status`: the last known status of each policy, read from the state file without
// taking its lock (so it works beside a running reconcile or daemon). Contacts nothing.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "cli/operator_options.h"
#include "controller/pass_record.h"
#include "controller/text_table.h"
#include "model/codec.h"

namespace dynoherd::cli {

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

// One policy as the state file knows it.
struct PolicyView {
  std::string name;
  std::string app;  // from the status or the -f file
  const model::PolicyStatus* status = nullptr;
  std::optional<model::PassRecord> record;
  std::string record_error;  // the record could not be read
  const spec::Policy* spec = nullptr;
};

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
    for (const auto& f : p.record->formations)
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

std::string RenderText(const std::vector<PolicyView>& views, const std::string& state_path,
                       TimePoint now) {
  if (views.empty()) {
    return "No policy has a status in " + state_path +
           " yet: `dynoherd reconcile` (or `run`) writes it.\n";
  }
  controller::TextTable table({{"POLICY"},
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
  for (const PolicyView& p : views) {
    std::string last_pass = "never";
    if (p.record) {
      last_pass = std::string(p.record->ok ? "ok" : "failed") + " " +
                  Age(p.record->finished_at, now) + " ago";
      if (!p.record->ok) {
        problems.push_back(p.name + ": last pass " + Age(p.record->finished_at, now) +
                           " ago failed: " + p.record->error);
      }
    } else if (p.status) {
      last_pass = Age(p.status->updated_at, now) + " ago";
    }
    if (!p.record_error.empty()) problems.push_back(p.name + ": " + p.record_error);

    std::vector<std::string> types = FormationTypes(p);
    if (types.empty()) {
      table.AddRow({p.name, "-", "-", "-", "-", "-", "-", "-", last_pass});
    }
    for (const std::string& type : types) {
      const model::FormationStatus* fs = p.status ? p.status->FindFormation(type) : nullptr;
      const model::FormationRecord* fr = nullptr;
      if (p.record) {
        for (const auto& f : p.record->formations) {
          if (f.type == type) fr = &f;
        }
      }
      std::string dynos = "-", desired = "-", baseline = "-", latency = "-", event = "-";
      if (fr) {
        if (fr->observed_quantity) {
          dynos = std::to_string(*fr->observed_quantity);
          if (fr->dynos_up != *fr->observed_quantity) {
            dynos += " (" + std::to_string(fr->dynos_up) + " up)";
          }
        } else {
          dynos = "missing";
        }
        if (fr->desired_quantity) desired = std::to_string(*fr->desired_quantity);
        if (fr->baseline) {
          baseline = std::to_string(*fr->baseline);
          if (fr->baseline_kind == "captured") baseline += " captured";
        }
        if (!fr->statistic.empty()) {
          latency = fr->statistic + " " +
                    (fr->latency_seconds ? FormatLatency(*fr->latency_seconds) : "unknown");
        }
      }
      if (fs && fs->event.started_at) {
        event = "+" + std::to_string(fs->event.depth) + " for " + Age(*fs->event.started_at, now);
      }
      table.AddRow({p.name, type, dynos, desired, baseline, latency, event, ConditionsCell(fs, now),
                    last_pass});
      if (fs) {
        for (const auto& c : fs->conditions) {
          // Unknown is a consequence (latency unknown), explained by Degraded's message.
          if (Healthy(c) || c.status == ConditionStatus::kUnknown || c.message.empty()) continue;
          problems.push_back(p.name + "/" + type + ": " + c.type + "=" +
                             std::string(model::Name(c.status)) + " for " +
                             Age(c.last_transition_time, now) + ": " + c.message);
        }
      }
    }
    if (p.record && p.record->actions_at) {
      for (const auto& a : p.record->actions) {
        std::string line = p.name + "/" + a.formation + "  " + Age(*p.record->actions_at, now) +
                           " ago  " + a.summary + "  " + a.reason;
        if (a.failed) line += " (failed: " + a.error + ")";
        actions.push_back(std::move(line));
      }
    }
  }
  std::string out = table.Render("");
  if (!problems.empty()) {
    out += "\nProblems:\n";
    for (const auto& p : problems)
      out += "  " + p + "\n";
  }
  if (!actions.empty()) {
    out += "\nLast actions:\n";
    for (const auto& a : actions)
      out += "  " + a + "\n";
  }
  return out;
}

json ToJsonView(const std::vector<PolicyView>& views, const std::string& state_path,
                TimePoint now) {
  json policies = json::array();
  for (const PolicyView& p : views) {
    policies.push_back({{"policy", p.name},
                        {"app", p.app},
                        {"status", p.status ? model::ToJson(*p.status) : json(nullptr)},
                        {"lastPass", p.record ? model::ToJson(*p.record) : json(nullptr)}});
  }
  return {{"stateFile", state_path},
          {"generatedAt", FormatTimestamp(now)},
          {"policies", std::move(policies)}};
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

int RunStatus(const OperatorArgs& args) {
  Session session(args, ProcessEnvironment());
  std::optional<std::vector<spec::Policy>> policies;
  if (!args.files.paths.empty()) {
    policies = LoadPolicies(args.files, session);
    if (!policies) return kExitError;
  }
  Result<std::string> state_path = StatePath(args);
  if (!state_path.ok()) {
    session.logger().Error("no state file", {{"error", state_path.status().message()}});
    return kExitError;
  }
  Result<std::unique_ptr<providers::StateStore>> store =
      providers::StateStore::OpenReadOnly(*state_path);
  if (!store.ok()) {
    session.logger().Error("cannot open the state file", {{"error", store.status().message()}});
    return kExitError;
  }

  std::vector<PolicyView> views;
  auto view = [&store](const std::string& name) {
    PolicyView v;
    v.name = name;
    v.status = (*store)->Find(name);
    if (v.status) v.app = v.status->app;
    if (const json* saved = (*store)->FindLastPass(name)) {
      Result<model::PassRecord> record = model::PassRecordFromJson(*saved);
      if (record.ok()) {
        v.record = std::move(record).value();
      } else {
        v.record_error = "the last-pass record cannot be read: " + record.status().message();
      }
    }
    return v;
  };
  if (policies) {
    for (const spec::Policy& policy : *policies) {
      PolicyView v = view(policy.name);
      v.app = policy.app;
      v.spec = &policy;
      views.push_back(std::move(v));
    }
  } else {
    for (const std::string& name : (*store)->ReportedPolicies())
      views.push_back(view(name));
  }

  const TimePoint now = session.clock().Now();
  std::string out;
  if (args.output == "json") {
    out = ToJsonView(views, *state_path, now).dump(2) + "\n";
  } else if (args.output == "yaml") {
    YAML::Emitter emitter;
    EmitYaml(emitter, ToJsonView(views, *state_path, now));
    out = std::string(emitter.c_str()) + "\n";
  } else {
    out = RenderText(views, *state_path, now);
  }
  return PrintRedacted(session, out) ? kExitOk : kExitError;
}

}  // namespace

void AddStatusCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "status", "Show the last known status of each policy, from the state file");
  auto args = std::make_shared<OperatorArgs>();
  AddCommonOptions(*command, *args, "warn");
  command->get_option("--filename")
      ->required(false)
      ->description(
          "Show these policies, in this order (default: every policy in the state "
          "file). FormationPolicy file, directory or -. Repeatable.");
  AddOutputOption(*command, *args, {"text", "json", "yaml"});
  command->footer(
      "Reads the state file that `reconcile` and `run` write, without its lock (it works\n"
      "while they run) and without contacting Heroku: what it shows is as old as the last\n"
      "pass, whose age the LAST PASS column gives. Per formation: dynos (and how many are\n"
      "up), the desired quantity and the baseline, the latency statistic, the latency\n"
      "event (+extra dynos for how long), conditions that need attention with their ages\n"
      "(else how long it has been Ready); then the problems in words and the last actions.\n"
      "\n"
      "Examples:\n"
      "  dynoherd status\n"
      "  dynoherd status -f policies/ --output yaml\n"
      "  dynoherd status --output json | jq '.policies[].lastPass.result'");
  command->callback([args, &exit_code] { exit_code = RunStatus(*args); });
}

}  // namespace dynoherd::cli
