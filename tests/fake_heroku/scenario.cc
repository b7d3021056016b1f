#include "tests/fake_heroku/scenario.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace dynoherd::fake_heroku {
namespace {

// A located parse failure; thrown inside this file only and turned into a Status at the boundary.
struct ScenarioError {
  std::string message;
};

std::string Where(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return "";
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

[[noreturn]] void Fail(const YAML::Node& node, const std::string& what) {
  throw ScenarioError{Where(node) + what};
}

// Reads one YAML mapping, refusing keys it was not asked about (a typo must not pass silently).
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (!node.IsMap()) Fail(node, path_ + ": expected a mapping");
  }
  // Call after the last Read: fails on any key nobody asked about.
  void Finish() const {
    for (const auto& entry : node_) {
      const std::string key = entry.first.as<std::string>();
      if (!seen_.count(key)) Fail(entry.first, path_ + ": unknown key \"" + key + "\"");
    }
  }
  YAML::Node Get(const std::string& key) {
    seen_.insert(key);
    return node_[key];
  }
  template <typename T>
  void Read(const std::string& key, T& out) {
    YAML::Node value = Get(key);
    if (!value) return;
    try {
      out = value.as<T>();
    } catch (const YAML::Exception&) {
      Fail(value, path_ + "." + key + ": wrong type");
    }
  }
  void ReadDuration(const std::string& key, Duration& out) {
    YAML::Node value = Get(key);
    if (!value) return;
    Result<Duration> d = ParseDuration(value.as<std::string>());
    if (!d.ok()) Fail(value, path_ + "." + key + ": " + d.status().message());
    out = *d;
  }
  const std::string& path() const { return path_; }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> seen_;
};

LatencyProfile ReadProfile(const YAML::Node& node, const std::string& path, LatencyProfile base) {
  MapReader m(node, path);
  m.Read("medianMs", base.median_ms);
  m.Read("count", base.count);
  m.Read("spread", base.spread);
  m.Read("laggardFactor", base.laggard_factor);
  m.Read("h12", base.h12);
  if (base.median_ms <= 0) Fail(node, path + ".medianMs: must be > 0");
  if (base.count < 0 || base.h12 < 0) Fail(node, path + ": count and h12 must be >= 0");
  if (base.laggard_factor <= 0) Fail(node, path + ".laggardFactor: must be > 0");
  m.Finish();
  return base;
}

FaultKind ReadFaultKind(const YAML::Node& node) {
  const std::string kind = node.as<std::string>();
  if (kind == "error") return FaultKind::kError;
  if (kind == "slow") return FaultKind::kSlow;
  if (kind == "stall") return FaultKind::kStall;
  if (kind == "drop") return FaultKind::kDrop;
  if (kind == "truncate") return FaultKind::kTruncate;
  if (kind == "drop-after") return FaultKind::kDropAfter;
  if (kind == "slow-body") return FaultKind::kSlowBody;
  if (kind == "malformed-json") return FaultKind::kMalformedJson;
  if (kind == "wrong-shape") return FaultKind::kWrongShape;
  Fail(node, "unknown fault kind \"" + kind +
                 "\" (error, slow, stall, drop, drop-after, truncate, slow-body, malformed-json, "
                 "wrong-shape)");
}

Fault ReadFault(const YAML::Node& node, const std::string& path) {
  Fault f;
  MapReader m(node, path);
  if (YAML::Node kind = m.Get("kind")) f.kind = ReadFaultKind(kind);
  m.Read("method", f.method);
  m.Read("path", f.path);
  m.Read("status", f.status);
  m.Read("id", f.id);
  m.Read("message", f.message);
  if (YAML::Node retry_after = m.Get("retryAfter")) f.retry_after = retry_after.as<std::string>();
  m.ReadDuration("delay", f.delay);
  m.Read("skip", f.skip);
  m.Read("times", f.times);
  if (f.status < 100 || f.status > 599) Fail(node, path + ".status: not an HTTP status");
  if (f.skip < 0 || f.times < 0) Fail(node, path + ": skip and times must be >= 0");
  m.Finish();
  return f;
}

AppSpec ReadApp(const YAML::Node& node, const std::string& path) {
  AppSpec app;
  MapReader m(node, path);
  m.Read("name", app.name);
  if (app.name.empty()) Fail(node, path + ".name: required");
  std::string naming = "classic";
  m.Read("naming", naming);
  if (naming != "classic" && naming != "fir") Fail(node, path + ".naming: classic or fir");
  app.fir_names = naming == "fir";
  m.ReadDuration("restartDelay", app.restart_delay);
  if (YAML::Node formations = m.Get("formations")) {
    for (size_t i = 0; i < formations.size(); ++i) {
      const std::string fpath = path + ".formations[" + std::to_string(i) + "]";
      FormationSpec f;
      MapReader fm(formations[i], fpath);
      fm.Read("type", f.type);
      fm.Read("quantity", f.quantity);
      fm.Read("size", f.size);
      fm.Read("command", f.command);
      if (f.type.empty()) Fail(formations[i], fpath + ".type: required");
      if (f.quantity < 0) Fail(formations[i], fpath + ".quantity: must be >= 0");
      if (f.command.empty()) {
        f.command = f.type == "web" ? "bundle exec puma -C config/puma.rb" : "bin/" + f.type;
      }
      fm.Finish();
      app.formations.push_back(f);
    }
  }
  if (YAML::Node dynos = m.Get("dynos")) {
    for (size_t i = 0; i < dynos.size(); ++i) {
      const std::string dpath = path + ".dynos[" + std::to_string(i) + "]";
      DynoSpec d;
      MapReader dm(dynos[i], dpath);
      dm.Read("name", d.name);
      dm.Read("type", d.type);
      dm.Read("state", d.state);
      if (d.name.empty() || d.type.empty()) Fail(dynos[i], dpath + ": name and type are required");
      static const std::set<std::string> kStates = {"crashed", "down", "idle", "starting", "up"};
      if (!kStates.count(d.state)) Fail(dynos[i], dpath + ".state: crashed|down|idle|starting|up");
      dm.Finish();
      app.dynos.push_back(d);
    }
  }
  if (YAML::Node logs = m.Get("logs")) {
    MapReader lm(logs, path + ".logs");
    lm.ReadDuration("window", app.log_window);
    if (YAML::Node types = lm.Get("types")) app.log_types = types.as<std::vector<std::string>>();
    if (YAML::Node def = lm.Get("default")) {
      app.default_profile = ReadProfile(def, path + ".logs.default", app.default_profile);
    }
    if (YAML::Node dynos = lm.Get("dynos")) {
      if (!dynos.IsMap())
        Fail(dynos, path + ".logs.dynos: expected a mapping of dyno name to profile");
      for (const auto& entry : dynos) {
        const std::string name = entry.first.as<std::string>();
        app.profiles[name] =
            ReadProfile(entry.second, path + ".logs.dynos." + name, app.default_profile);
      }
    }
    if (YAML::Node extra = lm.Get("extraLines")) {
      app.extra_log_lines = extra.as<std::vector<std::string>>();
    }
    lm.Finish();
  }
  m.Finish();
  return app;
}

Scenario ReadScenario(const YAML::Node& root) {
  Scenario s;
  if (!root || root.IsNull()) return s;
  MapReader m(root, "scenario");
  m.Read("token", s.token);
  m.Read("seed", s.seed);
  if (YAML::Node start = m.Get("startTime")) {
    std::optional<TimePoint> t = ParseTimestamp(start.as<std::string>());
    if (!t) Fail(start, "scenario.startTime: not an RFC 3339 timestamp");
    s.start_time = *t;
  }
  m.Read("pageSize", s.page_size);
  if (s.page_size < 1) Fail(root, "scenario.pageSize: must be >= 1");
  m.Read("requireUserAgent", s.require_user_agent);
  if (YAML::Node rate = m.Get("rateLimit")) {
    MapReader rm(rate, "scenario.rateLimit");
    rm.Read("remaining", s.rate_limit_remaining);
    rm.Read("capacity", s.rate_limit_capacity);
    rm.Read("refillPerMinute", s.refill_per_minute);
    rm.Read("notModifiedCosts", s.not_modified_costs);
    rm.Finish();
    if (s.rate_limit_remaining < 0 || s.rate_limit_capacity < s.rate_limit_remaining) {
      Fail(rate, "scenario.rateLimit: need 0 <= remaining <= capacity");
    }
  }
  if (YAML::Node apps = m.Get("apps")) {
    for (size_t i = 0; i < apps.size(); ++i) {
      s.apps.push_back(ReadApp(apps[i], "scenario.apps[" + std::to_string(i) + "]"));
    }
  }
  if (YAML::Node faults = m.Get("faults")) {
    for (size_t i = 0; i < faults.size(); ++i) {
      s.faults.push_back(ReadFault(faults[i], "scenario.faults[" + std::to_string(i) + "]"));
    }
  }
  m.Finish();
  return s;
}

}  // namespace

bool Fault::Matches(std::string_view m, std::string_view p) const {
  if (!method.empty() && method != m) return false;
  if (path.empty()) return p.substr(0, 9) != "/logplex/";
  if (path.back() == '*')
    return p.substr(0, path.size() - 1) == std::string_view(path).substr(0, path.size() - 1);
  return p == path;
}

Result<Scenario> ParseScenario(std::string_view text, std::string_view source_name) {
  const std::string prefix = std::string(source_name) + ":";
  try {
    return ReadScenario(YAML::Load(std::string(text)));
  } catch (const ScenarioError& e) {
    return Status::InvalidArgument(prefix + e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(prefix + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read scenario " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseScenario(buffer.str(), path);
}

Result<Fault> ParseFault(std::string_view text) {
  try {
    return ReadFault(YAML::Load(std::string(text)), "fault");
  } catch (const ScenarioError& e) {
    return Status::InvalidArgument(e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("fault: " + e.msg);
  }
}

}  // namespace dynoherd::fake_heroku
