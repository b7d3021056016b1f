// The JSON Schema and the loader must agree field by field. These tests walk the generated
// schema and probe the loader with what the schema claims: every property it lists is accepted,
// its default is the loader's default, its type, enum, bounds, pattern and required-ness are
// enforced; and every object rejects unknown fields. Then the other way: every field of the
// loader's table appears in the schema with the same shape.
#include "spec/schema.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "spec/fields.h"
#include "spec/loader.h"
#include "tests/support/policy_documents.h"

namespace dynoherd::spec {
namespace {

// `text`, appended rather than "`" + text: GCC 12 -O3 misreads the latter as overlapping copies.
std::string Backticked(const std::string& text) {
  return std::string(1, '`').append(text).append(1, '`');
}

using json = nlohmann::json;
using Pointer = json::json_pointer;

const json& Schema() {
  static const json schema = json::parse(GenerateJsonSchema());
  return schema;
}

// A property's schema with its "$ref" (always "#/$defs/Name") merged in.
json Resolve(const json& property) {
  if (!property.is_object() || !property.contains("$ref")) return property;
  std::string ref = property["$ref"];
  REQUIRE(ref.rfind("#/$defs/", 0) == 0);
  json resolved = Schema()["$defs"][ref.substr(8)];
  for (const auto& [key, value] : property.items()) {
    if (key != "$ref") resolved[key] = value;
  }
  return resolved;
}

struct Leaf {
  std::string path;  // as the loader names it: spec.formations[0].laggards.sigma
  Pointer pointer;   // where it sits in a document
  json schema;
  bool required = false;
};

struct ObjectAt {
  std::string path;
  Pointer pointer;
  json schema;
};

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// Collects every scalar property, list of strings or map of strings (leaf) and every object of the schema. Lists
// of objects are entered at index 0 and maps at key "web", the shapes the base documents below
// have.
void Walk(const json& object, const std::string& path, const Pointer& pointer,
          std::vector<Leaf>& leaves, std::vector<ObjectAt>& objects) {
  objects.push_back({path, pointer, object});
  std::set<std::string> required;
  for (const auto& r : object.value("required", json::array()))
    required.insert(r);
  for (const auto& [name, raw] : object["properties"].items()) {
    json property = Resolve(raw);
    std::string child = Join(path, name);
    const bool strings =
        property.value("type", "") == "array" && property["items"].value("type", "") == "string";
    const bool string_map = property.value("type", "") == "object" &&
                            property["additionalProperties"].is_object() &&
                            property["additionalProperties"].value("type", "") == "string";
    if (property.contains("properties")) {
      Walk(property, child, pointer / name, leaves, objects);
    } else if (property.value("type", "") == "array" && !strings) {
      Walk(Resolve(property["items"]), child + "[0]", pointer / name / 0, leaves, objects);
    } else if (property.value("type", "") == "object" && !string_map) {
      Walk(Resolve(property["additionalProperties"]), child + ".web", pointer / name / "web",
           leaves, objects);
    } else {
      leaves.push_back({child, pointer / name, property, required.count(name) > 0});
    }
  }
}

// Documents that together reach every field. JSON is YAML, so they load as they are.
std::vector<json> Bases() {
  json heroku = testing::HerokuPolicyDocument();
  // The largest latencyThreshold, so restoredThreshold can reach its own maximum.
  heroku["spec"]["formations"][0]["autoscale"]["latencyThreshold"] = "10m";
  json prometheus = heroku;
  prometheus["spec"]["formations"][0]["latency"] = {
      {"source", "prometheus"}, {"url", "http://127.0.0.1:9090"}, {"query", "up"}};
  json sim = testing::SimPolicyDocument();
  sim["spec"]["formations"][0]["autoscale"]["latencyThreshold"] = "10m";
  // One incident each, early enough for the shortest simulation (1m).
  json noisy = sim["spec"]["sim"]["incidents"][0];
  json surge = sim["spec"]["sim"]["incidents"][1];
  noisy["at"] = surge["at"] = "30s";
  sim["spec"]["sim"]["incidents"] = json::array({surge});
  json sim_worker = sim;
  sim_worker["spec"]["sim"]["formations"]["web"] = {{"jobTime", "1s"}, {"jobsPerSecond", 1}};
  json sim_noisy = sim;
  sim_noisy["spec"]["sim"]["incidents"] = json::array({noisy});
  json sidekiq = heroku;
  sidekiq["spec"]["formations"][0].erase("laggards");
  sidekiq["spec"]["formations"][0]["latency"] = {
      {"source", "sidekiq"}, {"url", "rediss://:pw@127.0.0.1:6379"}, {"queues", {"default"}}};
  return {heroku, prometheus, sim, sim_worker, sim_noisy, sidekiq};
}

LoadResult Load(const json& document) {
  EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "APP") return "shop";
    return std::nullopt;
  };
  return ParsePolicies(document.dump(2), "t.json", env);
}

std::string ErrorsAt(const LoadResult& result, const std::string& path) {
  std::string out;
  for (const auto& e : result.errors) {
    if (e.field == path) out += e.message + "\n";
  }
  return out;
}

bool HasParent(const json& document, const Pointer& pointer) {
  return document.contains(pointer.parent_pointer());
}

json With(json document, const Pointer& pointer, const json& value) {
  document[pointer] = value;
  return document;
}

json Without(json document, const Pointer& pointer) {
  if (document.contains(pointer)) document[pointer.parent_pointer()].erase(pointer.back());
  return document;
}

// Locations differ with the text; compare what was declared.
Policy WithoutLocations(Policy p) {
  p.location = {};
  for (auto& f : p.formations)
    f.location = {};
  return p;
}

bool IsDuration(const json& property) {
  return property.value("pattern", "") == std::string(DurationPattern());
}

std::vector<json> Candidates(const Leaf& leaf) {
  std::vector<json> out;
  const json& s = leaf.schema;
  if (s.contains("default")) out.push_back(s["default"]);
  if (s.contains("const")) out.push_back(s["const"]);
  for (const auto& e : s.value("enum", json::array()))
    out.push_back(e);
  if (s.contains("oneOf")) {
    out.push_back(1);
    out.push_back("25%");
  }
  std::string type = s.value("type", "");
  if (type == "integer" || type == "number") {
    if (s.contains("minimum")) out.push_back(s["minimum"]);
    if (s.contains("exclusiveMinimum")) out.push_back(s["exclusiveMinimum"].get<double>() + 1);
    out.push_back(1);
  }
  if (type == "boolean") out.push_back(true);
  if (type == "array") out.push_back(json::array({"default"}));
  if (type == "object") out.push_back({{"app.kubernetes.io/name", "dynoherd"}});
  if (IsDuration(s)) {
    for (const char* d : {"1m", "30s", "2s", "10s", "100ms", "1s"})
      out.push_back(d);
  } else if (type == "string") {
    for (const char* v : {"shop", "web", "http://127.0.0.1:9090", "up", "web.1", "instance"}) {
      out.push_back(v);
    }
  }
  return out;
}

struct Walked {
  std::vector<Leaf> leaves;
  std::vector<ObjectAt> objects;
};

const Walked& SchemaWalk() {
  static const Walked walked = [] {
    Walked w;
    Walk(Schema(), "", Pointer(), w.leaves, w.objects);
    return w;
  }();
  return walked;
}

// A base document in which `leaf` = `value` loads cleanly, if there is one.
std::optional<json> AcceptingBase(const Leaf& leaf, const json& value) {
  for (const json& base : Bases()) {
    if (!HasParent(base, leaf.pointer)) continue;
    json document = With(base, leaf.pointer, value);
    if (Load(document).ok()) return document;
  }
  return std::nullopt;
}

bool Accepted(const Leaf& leaf, const json& value) {
  return AcceptingBase(leaf, value).has_value();
}

// The first base document in which some plausible value of `leaf` loads cleanly: where the
// leaf's own checks can be probed without rules between fields getting in the way.
const json& Home(const Leaf& leaf) {
  static std::map<std::string, json> homes;
  auto it = homes.find(leaf.path);
  if (it != homes.end()) return it->second;
  for (const json& value : Candidates(leaf)) {
    if (std::optional<json> document = AcceptingBase(leaf, value)) {
      return homes.emplace(leaf.path, *document).first->second;
    }
  }
  FAIL("the loader accepts no plausible value of " << leaf.path);
  return homes[leaf.path];
}

// The loader's errors at `leaf` when it is `value` in the leaf's home document.
std::string Rejection(const Leaf& leaf, const json& value) {
  return ErrorsAt(Load(With(Home(leaf), leaf.pointer, value)), leaf.path);
}

TEST_CASE("the schema is draft 2020-12, closed, described and deterministic") {
  const json& s = Schema();
  CHECK(s["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(s["title"] == "dynoherd FormationPolicy (dynoherd/v1)");
  CHECK(GenerateJsonSchema() == GenerateJsonSchema());
  for (const auto& object : SchemaWalk().objects) {
    INFO(object.path);
    CHECK(object.schema["additionalProperties"] == false);
    CHECK_FALSE(object.schema.value("description", "").empty());
  }
  for (const auto& leaf : SchemaWalk().leaves) {
    INFO(leaf.path);
    CHECK_FALSE(leaf.schema.value("description", "").empty());
  }
  CHECK(SchemaWalk().leaves.size() == 57);
}

TEST_CASE("docs/formationpolicy.schema.json is the current schema") {
  std::ifstream in("docs/formationpolicy.schema.json");
  REQUIRE_MESSAGE(in.good(), "run the tests from the source root");
  std::stringstream text;
  text << in.rdbuf();
  CHECK_MESSAGE(text.str() == GenerateJsonSchema(),
                "regenerate it: build/dynoherd schema > docs/formationpolicy.schema.json");
}

TEST_CASE("every property of the schema is accepted by the loader, with the same default") {
  for (const auto& leaf : SchemaWalk().leaves) {
    INFO(leaf.path);
    const json& home = Home(leaf);
    if (!leaf.schema.contains("default")) continue;
    // Writing the default gives the same policy as leaving the field out.
    LoadResult written = Load(With(home, leaf.pointer, leaf.schema["default"]));
    LoadResult omitted = Load(Without(home, leaf.pointer));
    INFO(written.ErrorText() << omitted.ErrorText());
    REQUIRE(written.ok());
    REQUIRE(omitted.ok());
    CHECK(WithoutLocations(written.policies[0]) == WithoutLocations(omitted.policies[0]));
  }
}

TEST_CASE("required in the schema means required by the loader, and only then") {
  for (const auto& leaf : SchemaWalk().leaves) {
    INFO(leaf.path);
    for (const json& base : Bases()) {
      if (!base.contains(leaf.pointer)) continue;
      LoadResult result = Load(Without(base, leaf.pointer));
      if (leaf.required) {
        CHECK(ErrorsAt(result, leaf.path) == "required field is missing\n");
      } else {
        // Optional in the schema: never "required field is missing". (A rule between fields,
        // an if/then in the schema, may still want it: prometheus needs url.)
        CHECK(ErrorsAt(result, leaf.path).find("required field is missing") == std::string::npos);
      }
    }
  }
  for (const auto& object : SchemaWalk().objects) {
    for (const auto& name : object.schema.value("required", json::array())) {
      INFO(object.path << "." << name.get<std::string>());
      for (const json& base : Bases()) {
        Pointer pointer = object.pointer / name.get<std::string>();
        if (!base.contains(pointer)) continue;
        CHECK(ErrorsAt(Load(Without(base, pointer)), Join(object.path, name)) ==
              "required field is missing\n");
      }
    }
  }
}

TEST_CASE("the loader rejects the types the schema rejects") {
  for (const auto& leaf : SchemaWalk().leaves) {
    INFO(leaf.path);
    std::string type = leaf.schema.value("type", "");
    std::vector<json> wrong = {json::array(), json::object(), nullptr};
    if (type == "string") wrong.insert(wrong.end(), {5, true});
    if (type == "integer") wrong.insert(wrong.end(), {"5", 1.5, true});
    if (type == "number") wrong.insert(wrong.end(), {"5", true});
    if (type == "boolean") wrong.insert(wrong.end(), {"true", 1});
    if (leaf.schema.contains("oneOf")) wrong.insert(wrong.end(), {"5", true, 1.5});
    if (type == "array") wrong = {json::object(), nullptr, "default", 5};
    if (type == "object") wrong = {json::array(), nullptr, "default", 5};
    for (const json& value : wrong) {
      INFO(value.dump());
      std::string errors = Rejection(leaf, value);
      if (IsDuration(leaf.schema) && value.is_number()) {
        CHECK(errors.find("needs a unit") != std::string::npos);
      } else {
        CHECK(errors.rfind("must be", 0) == 0);
      }
    }
  }
}

TEST_CASE("enums and constants: every listed value is accepted, others are not") {
  int enums = 0;
  for (const auto& leaf : SchemaWalk().leaves) {
    INFO(leaf.path);
    json values = leaf.schema.value("enum", json::array());
    if (leaf.schema.contains("const")) values.push_back(leaf.schema["const"]);
    if (values.empty()) continue;
    ++enums;
    for (const json& value : values)
      CHECK_MESSAGE(Accepted(leaf, value), value.dump());
    CHECK(Rejection(leaf, "bogus-value").rfind("must be", 0) == 0);
  }
  CHECK(enums == 11);
}

TEST_CASE("numeric bounds are the loader's bounds") {
  for (const auto& leaf : SchemaWalk().leaves) {
    const json& s = leaf.schema;
    std::string type = s.value("type", "");
    json number = s;
    if (s.contains("oneOf")) number = s["oneOf"][0];  // count or percent: the count
    if (number.value("type", "") != "integer" && number.value("type", "") != "number") continue;
    INFO(leaf.path);
    const double step = number["type"] == "integer" ? 1 : 0.5;
    auto value = [&](double v) {
      return number["type"] == "integer" ? json(static_cast<int64_t>(v)) : json(v);
    };
    if (number.contains("minimum")) {
      double min = number["minimum"];
      CHECK(Accepted(leaf, value(min)));
      CHECK(Rejection(leaf, value(min - step)).rfind("must be >= " + FormatNumber(min), 0) == 0);
    }
    if (number.contains("exclusiveMinimum")) {
      double min = number["exclusiveMinimum"];
      CHECK(Rejection(leaf, value(min)).rfind("must be > " + FormatNumber(min), 0) == 0);
      CHECK(Accepted(leaf, value(min + step)));
    }
    if (number.contains("maximum")) {
      double max = number["maximum"];
      CHECK(Accepted(leaf, value(max)));
      CHECK(Rejection(leaf, value(max + step)).rfind("must be <= " + FormatNumber(max), 0) == 0);
    }
  }
}

TEST_CASE("duration bounds stated in the schema are the loader's bounds") {
  static const std::regex kBetween("Between ([0-9a-z]+) and ([0-9a-z]+)\\.");
  int durations = 0;
  for (const auto& leaf : SchemaWalk().leaves) {
    if (!IsDuration(leaf.schema)) continue;
    ++durations;
    INFO(leaf.path);
    std::smatch m;
    std::string description = leaf.schema["description"];
    REQUIRE(std::regex_search(description, m, kBetween));
    Duration min = *ParseDuration(m[1].str());
    Duration max = *ParseDuration(m[2].str());
    CHECK(Accepted(leaf, FormatDuration(min)));
    if (description.find("before the end of the simulation") == std::string::npos) {
      CHECK(Accepted(leaf, FormatDuration(max)));
    } else {
      // An incident at the simulation's longest duration would never happen: a rule says so.
      CHECK(Rejection(leaf, FormatDuration(max)).find("before the end") != std::string::npos);
    }
    if (min > Duration(0)) {
      CHECK(Rejection(leaf, FormatDuration(min - Duration(1))) ==
            "must be >= " + m[1].str() + " (got " + FormatDuration(min - Duration(1)) + ")\n");
    }
    CHECK(Rejection(leaf, FormatDuration(max + Duration(1))) ==
          "must be <= " + m[2].str() + " (got " + FormatDuration(max + Duration(1)) + ")\n");
    CHECK(Rejection(leaf, 90).rfind("duration \"90\" needs a unit", 0) == 0);
  }
  CHECK(durations == 16);
}

TEST_CASE("string patterns and lengths are the loader's") {
  const std::vector<std::string> samples = {"web",
                                            "Web",
                                            "web app",
                                            "-x",
                                            "x-",
                                            "a",
                                            "ab",
                                            "abc",
                                            "",
                                            " ",
                                            "shop-web",
                                            "web_2",
                                            "http://127.0.0.1:9090",
                                            "https://prom",
                                            "ftp://x",
                                            "http://",
                                            "up",
                                            "web.3",
                                            "web.0",
                                            "1abc",
                                            "_ok",
                                            std::string(63, 'a'),
                                            std::string(64, 'a'),
                                            std::string(129, 'w'),
                                            "01234567-89ab-cdef-0123-456789abcdef",
                                            "5m",
                                            "25%"};
  int strings = 0;
  for (const auto& leaf : SchemaWalk().leaves) {
    const json& s = leaf.schema;
    if (s.value("type", "") != "string" || !s.contains("pattern") || IsDuration(s)) continue;
    ++strings;
    INFO(leaf.path);
    std::regex pattern(s["pattern"].get<std::string>());
    for (const auto& sample : samples) {
      INFO(sample);
      bool schema_ok = std::regex_search(sample, pattern) &&
                       (!s.contains("maxLength") || sample.size() <= s["maxLength"]);
      // Rules between fields may still reject a well-formed value ("no simulated formation");
      // what the schema decides is whether the text itself is acceptable.
      std::string errors = Rejection(leaf, sample);
      bool loader_ok = errors.rfind("must be", 0) != 0;
      CHECK(schema_ok == loader_ok);
    }
  }
  CHECK(strings == 10);
}

TEST_CASE("${VAR} fields: the schema accepts a reference, the loader expands it") {
  for (const auto& leaf : SchemaWalk().leaves) {
    const json& s = leaf.schema;
    if (s.value("description", "").find("${VAR} is expanded") == std::string::npos) continue;
    INFO(leaf.path);
    std::regex pattern(s["pattern"].get<std::string>());
    CHECK(std::regex_search(std::string("${APP}"), pattern));
    CHECK(Rejection(leaf, "${UNSET_VARIABLE}") ==
          "environment variable UNSET_VARIABLE is not set\n");
  }
}

TEST_CASE("labels and annotations: the schema's keys and values are the loader's") {
  const json base = Bases()[0];
  const std::vector<std::string> samples = {"app",   "app.kubernetes.io/name", "Example.com/x",
                                            "",      "a b",                    "-a",
                                            "a/b/c", std::string(63, 'v'),     std::string(64, 'v'),
                                            "v1.2",  "x/" + std::string(63, 'n')};
  for (const char* name : {"labels", "annotations"}) {
    const json map = Schema()["$defs"]["Metadata"]["properties"][name];
    const std::regex key_pattern(map["propertyNames"]["pattern"].get<std::string>());
    const json value_schema = map["additionalProperties"];
    const std::regex value_pattern(value_schema.value("pattern", std::string(".*")));
    for (const auto& sample : samples) {
      INFO(name << " " << sample);
      const bool key_ok = std::regex_search(sample, key_pattern) &&
                          sample.size() <= map["propertyNames"]["maxLength"];
      const json as_key = With(base, Pointer("/metadata") / name, {{sample, "v"}});
      CHECK(Load(as_key).ok() == key_ok);
      const bool value_ok = std::regex_search(sample, value_pattern) &&
                            sample.size() <= value_schema["maxLength"];
      const json as_value = With(base, Pointer("/metadata") / name, {{"k", sample}});
      CHECK(Load(as_value).ok() == value_ok);
    }
  }
}

TEST_CASE("map keys follow propertyNames") {
  json base = Bases()[2];
  json entry = base["spec"]["sim"]["formations"]["web"];
  json pattern_owner = Resolve(Schema()["$defs"]["Sim"]["properties"]["formations"]);
  std::regex pattern(pattern_owner["propertyNames"]["pattern"].get<std::string>());
  for (const std::string& key :
       std::vector<std::string>{"api", "bad name", "web_2", std::string(129, 'w')}) {
    INFO(key);
    LoadResult result = Load(With(base, Pointer("/spec/sim/formations") / key, entry));
    CHECK(std::regex_search(key, pattern) ==
          ErrorsAt(result, "spec.sim.formations." + key).empty());
  }
}

TEST_CASE("every object rejects unknown fields") {
  for (const auto& object : SchemaWalk().objects) {
    INFO(object.path);
    bool reached = false;
    for (const json& base : Bases()) {
      if (!base.contains(object.pointer)) continue;
      reached = true;
      LoadResult result = Load(With(base, object.pointer / "bogusField", 1));
      CHECK(ErrorsAt(result, Join(object.path, "bogusField")).rfind("unknown field", 0) == 0);
    }
    CHECK(reached);
  }
}

TEST_CASE("every field of the loader's table is in the schema with the same shape") {
  for (const ObjectType* type : AllObjectTypes()) {
    const json& object = type == &FormationPolicyType() ? Schema() : Schema()["$defs"][type->name];
    REQUIRE_MESSAGE(object.is_object(), type->name);
    CHECK(object["properties"].size() == type->fields.size());
    for (const Field& field : type->fields) {
      INFO(type->name << "." << field.name);
      REQUIRE(object["properties"].contains(field.name));
      json property = Resolve(object["properties"][field.name]);
      json required = object.value("required", json::array());
      CHECK(field.required ==
            (std::find(required.begin(), required.end(), field.name) != required.end()));
      CHECK(property.contains("default") == field.default_value.has_value());
      switch (field.kind) {
        case FieldKind::kInteger:
          CHECK(property["type"] == "integer");
          break;
        case FieldKind::kNumber:
          CHECK(property["type"] == "number");
          break;
        case FieldKind::kBoolean:
          CHECK(property["type"] == "boolean");
          break;
        case FieldKind::kString:
          CHECK(property["type"] == "string");
          break;
        case FieldKind::kDuration:
          CHECK(IsDuration(property));
          break;
        case FieldKind::kEnum:
          CHECK(property.value("enum", json::array({property.value("const", json())})).size() ==
                field.enum_values.size());
          break;
        case FieldKind::kCountOrPercent:
          CHECK(property["oneOf"].size() == 2);
          break;
        case FieldKind::kObject:
          CHECK(property["title"] == field.object->name);
          break;
        case FieldKind::kList:
          CHECK(property["type"] == "array");
          break;
        case FieldKind::kStringList:
          CHECK(property["type"] == "array");
          CHECK(property["items"]["type"] == "string");
          break;
        case FieldKind::kMap:
          CHECK(property["type"] == "object");
          break;
        case FieldKind::kStringMap:
          CHECK(property["type"] == "object");
          CHECK(property["additionalProperties"]["type"] == "string");
          break;
      }
    }
  }
}

TEST_CASE("docs/spec.md lists every field of every object with its default") {
  std::ifstream in("docs/spec.md");
  REQUIRE_MESSAGE(in.good(), "run the tests from the source root");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string docs = buffer.str();
  for (const ObjectType* type : AllObjectTypes()) {
    INFO(type->name);
    size_t start = docs.find("\n### " + type->name + ":");
    REQUIRE(start != std::string::npos);
    size_t end = docs.find("\n#", start + 1);
    const std::string section = docs.substr(start, end - start);
    size_t rows = 0;
    for (size_t at = section.find("\n| `"); at != std::string::npos;
         at = section.find("\n| `", at + 1)) {
      ++rows;
    }
    CHECK(rows == type->fields.size());
    for (const Field& field : type->fields) {
      std::string expected = field.required ? "**required**"
                             : field.default_value
                                 ? Backticked(FormatFieldValue(field, *field.default_value))
                                 : "none";
      CHECK_MESSAGE(
          section.find("\n| `" + field.name + "` | " + expected + " |") != std::string::npos,
          field.name << " should read: | `" << field.name << "` | " << expected);
    }
  }
}

TEST_CASE("QualifiedNamePattern accepts exactly what QualifiedNameProblem accepts") {
  const std::regex pattern{std::string(QualifiedNamePattern())};
  const std::string name63(63, 'a');
  const std::string prefix253 = std::string(126, 'a') + "." + std::string(126, 'b');
  for (const std::string& key : {std::string("app"),
                                 std::string("app.kubernetes.io/name"),
                                 std::string("argocd.argoproj.io/instance"),
                                 std::string("kustomize.toolkit.fluxcd.io/x"),
                                 std::string("A_b.C-9"),
                                 std::string("x"),
                                 name63,
                                 name63 + "a",
                                 prefix253 + "/" + name63,
                                 prefix253 + "b/x",
                                 std::string(""),
                                 std::string("/x"),
                                 std::string("a/"),
                                 std::string("-a"),
                                 std::string("a-"),
                                 std::string("a b"),
                                 std::string("a/b/c"),
                                 std::string("Example.com/x"),
                                 std::string("a..b/x"),
                                 std::string("-a.b/x"),
                                 std::string("a.b-/x"),
                                 std::string("ünïcode"),
                                 std::string("a_b/x")}) {
    INFO(key);
    CHECK(std::regex_match(key, pattern) == QualifiedNameProblem(key).empty());
  }
}

TEST_CASE("LabelValuePattern takes Kubernetes' label values") {
  const std::regex pattern{std::string(LabelValuePattern())};
  for (const char* ok : {"", "a", "v1.2.3", "my_app-01", "Z"}) {
    INFO(ok);
    CHECK(std::regex_match(std::string(ok), pattern));
  }
  for (const char* bad : {"-a", "a-", ".a", "a b", "a/b", "ü"}) {
    INFO(bad);
    CHECK_FALSE(std::regex_match(std::string(bad), pattern));
  }
}

TEST_CASE("DurationPattern accepts exactly what ParseDuration parses") {
  std::regex pattern{std::string(DurationPattern())};
  for (const char* text :
       {"500ms", "90s",    "5m", "1h", "1m30s",  "1h2m3s4ms", "1.5s", "0.5h",  ".5s",
        "1.s",   "0s",     "",   "5",  "5 m",    "m",         "1m1h", "1s1s",  "1ms1s",
        "-1s",   "1.2.3s", "1d", "1S", "1m 30s", "ms",        "1sms", "1.5ms", "0.0001s"}) {
    INFO(text);
    // Sub-millisecond values are well-formed but rejected for precision: not a syntax matter.
    Result<Duration> parsed = ParseDuration(text);
    bool syntax_ok =
        parsed.ok() || parsed.status().message().find("finer than") != std::string::npos;
    CHECK(std::regex_match(std::string(text), pattern) == syntax_ok);
  }
}

}  // namespace
}  // namespace dynoherd::spec
