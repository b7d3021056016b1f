#include "spec/schema.h"

#include <nlohmann/json.hpp>

#include "spec/fields.h"

namespace dynoherd::spec {
namespace {

using nlohmann::ordered_json;

ordered_json Ref(const ObjectType& type) {
  return {{"$ref", "#/$defs/" + type.name}};
}

// A value matching `pattern`, or any text holding a ${VAR} the loader will expand first.
std::string WithVariables(const std::string& pattern) {
  return "(?:" + pattern + ")|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}";
}

ordered_json DefaultJson(const Field& field, const FieldValue& value) {
  if (field.kind == FieldKind::kEnum) return field.EnumName(std::get<int64_t>(value));
  return std::visit(
      [](const auto& v) -> ordered_json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Duration>) {
          return FormatDuration(v);
        } else if constexpr (std::is_same_v<T, CountOrPercent>) {
          if (v.is_percent) return v.ToString();
          return v.value;
        } else {
          return v;
        }
      },
      value);
}

void AddBounds(ordered_json& schema, const Field& field) {
  if (field.minimum)
    schema[field.exclusive_minimum ? "exclusiveMinimum" : "minimum"] = *field.minimum;
  if (field.maximum) schema["maximum"] = *field.maximum;
}

// Integers stay integers in the output ("minimum": 2, not 2.0).
void IntegerBounds(ordered_json& schema, const Field& field) {
  if (field.minimum) {
    schema[field.exclusive_minimum ? "exclusiveMinimum" : "minimum"] =
        static_cast<int64_t>(*field.minimum);
  }
  if (field.maximum) schema["maximum"] = static_cast<int64_t>(*field.maximum);
}

ordered_json Property(const Field& field) {
  ordered_json p;
  p["description"] = field.FullDescription();
  switch (field.kind) {
    case FieldKind::kString:
      p["type"] = "string";
      if (!field.pattern.empty()) {
        p["pattern"] = field.expands_env ? WithVariables(field.pattern) : field.pattern;
      }
      if (field.max_length > 0) p["maxLength"] = field.max_length;
      break;
    case FieldKind::kInteger:
      p["type"] = "integer";
      IntegerBounds(p, field);
      break;
    case FieldKind::kNumber:
      p["type"] = "number";
      AddBounds(p, field);
      break;
    case FieldKind::kBoolean:
      p["type"] = "boolean";
      break;
    case FieldKind::kDuration:
      p["type"] = "string";
      p["pattern"] = DurationPattern();
      break;
    case FieldKind::kEnum:
      p["type"] = "string";
      if (field.enum_values.size() == 1) {
        p["const"] = field.enum_values[0].name;
      } else {
        for (const auto& e : field.enum_values)
          p["enum"].push_back(e.name);
      }
      break;
    case FieldKind::kCountOrPercent: {
      ordered_json count = {{"type", "integer"}};
      IntegerBounds(count, field);
      ordered_json percent = {{"type", "string"}, {"pattern", PercentPattern()}};
      p["oneOf"] = {count, percent};
      break;
    }
    case FieldKind::kObject:
      p.update(Ref(*field.object));
      break;
    case FieldKind::kList:
      p["type"] = "array";
      p["items"] = Ref(*field.object);
      if (field.min_items > 0) p["minItems"] = field.min_items;
      if (field.max_items > 0) p["maxItems"] = field.max_items;
      break;
    case FieldKind::kStringList: {
      ordered_json item = {{"type", "string"}};
      if (!field.pattern.empty()) item["pattern"] = field.pattern;
      p["type"] = "array";
      p["items"] = item;
      if (field.min_items > 0) p["minItems"] = field.min_items;
      if (field.max_items > 0) p["maxItems"] = field.max_items;
      break;
    }
    case FieldKind::kStringMap: {
      ordered_json value = {{"type", "string"}};
      if (!field.pattern.empty()) value["pattern"] = field.pattern;
      if (field.max_length > 0) value["maxLength"] = field.max_length;
      p["type"] = "object";
      p["propertyNames"] = {{"pattern", field.key_pattern}, {"maxLength", field.key_max_length}};
      // The loader also bounds the total size (max_total_bytes), which JSON Schema cannot say.
      p["additionalProperties"] = value;
      break;
    }
    case FieldKind::kMap:
      p["type"] = "object";
      if (!field.pattern.empty()) p["propertyNames"] = {{"pattern", field.pattern}};
      p["additionalProperties"] = Ref(*field.object);
      if (field.min_items > 0) p["minProperties"] = field.min_items;
      if (field.max_items > 0) p["maxProperties"] = field.max_items;
      break;
  }
  if (field.default_value) p["default"] = DefaultJson(field, *field.default_value);
  return p;
}

ordered_json When(std::string_view property, std::string_view value) {
  return {{"properties", {{property, {{"const", value}}}}}, {"required", {property}}};
}

// "properties": {name: false, ...}: the fields must be absent.
ordered_json Forbid(std::initializer_list<std::string_view> names) {
  ordered_json properties = ordered_json::object();
  for (auto name : names)
    properties[std::string(name)] = false;
  return {{"properties", properties}};
}

// The cross-field rules of spec/loader.cc that JSON Schema can express. The loader also checks
// what it cannot: restoredThreshold <= latencyThreshold, unique names and formation types, that
// formations and incidents name simulated formations and dynos that exist, incident times.
ordered_json Rules(const ObjectType& type) {
  if (type.name == "Spec") {
    // provider: sim needs spec.sim and every latency.source sim; otherwise neither.
    ordered_json then;
    then["required"] = {"sim"};
    ordered_json& sim_latency = then["properties"]["formations"]["items"]["properties"]["latency"];
    sim_latency["properties"]["source"] = {{"const", "sim"}};
    sim_latency["required"] = {"source"};
    ordered_json otherwise;
    otherwise["properties"]["sim"] = false;
    otherwise["properties"]["formations"]["items"]["properties"]["latency"]["properties"]
             ["source"] = {{"not", {{"const", "sim"}}}};
    return {{"if", When("provider", "sim")}, {"then", then}, {"else", otherwise}};
  }
  if (type.name == "Latency") {
    ordered_json prometheus;
    prometheus["properties"]["url"] = {{"pattern", WithVariables("^https?://")}};
    prometheus["required"] = {"url", "query"};
    ordered_json sidekiq = Forbid({"window"});
    sidekiq["properties"]["statistic"] = {{"const", "max"}};
    sidekiq["properties"]["url"] = {{"pattern", WithVariables("^rediss?://")}};
    sidekiq["required"] = {"url", "queues"};
    ordered_json named_source =
        ordered_json::array({When("source", "prometheus"), When("source", "sidekiq")});
    ordered_json no_url = {{"not", {{"anyOf", named_source}}}};
    // via belongs to router-logs, the default source: forbidden once another is named.
    ordered_json other_source = When("source", "router-logs");
    other_source = {{"required", {"source"}}, {"not", other_source}};
    ordered_json rules = ordered_json::array();
    rules.push_back({{"if", When("source", "prometheus")},
                     {"then", prometheus},
                     {"else", Forbid({"query", "dynoLabel"})}});
    rules.push_back({{"if", When("source", "sidekiq")},
                     {"then", sidekiq},
                     {"else", Forbid({"queues", "namespace", "tlsVerify", "tlsCaFile"})}});
    rules.push_back({{"if", no_url}, {"then", Forbid({"url"})}});
    rules.push_back({{"if", other_source}, {"then", Forbid({"via"})}});
    return {{"allOf", rules}};
  }
  if (type.name == "Formation") {
    ordered_json sidekiq;
    sidekiq["properties"]["latency"] = When("source", "sidekiq");
    sidekiq["required"] = {"latency"};
    return {{"dependentRequired", {{"laggards", {"latency"}}, {"autoscale", {"latency"}}}},
            {"if", sidekiq},
            {"then", Forbid({"laggards"})}};
  }
  if (type.name == "SimFormation") {
    ordered_json web = Forbid({"jobTime", "jobsPerSecond"});
    web["required"] = {"serviceTime", "rps"};
    ordered_json worker = Forbid({"serviceTime", "rps"});
    worker["required"] = {"jobTime", "jobsPerSecond"};
    return {{"oneOf", {web, worker}}};
  }
  if (type.name == "SimIncident") {
    ordered_json noisy = Forbid({"formation", "for"});
    noisy["properties"]["factor"] = {{"minimum", 1}};
    noisy["required"] = {"dyno"};
    ordered_json surge = Forbid({"dyno"});
    surge["required"] = {"formation"};
    return {{"allOf",
             {{{"if", When("kind", "noisy-neighbor")}, {"then", noisy}},
              {{"if", When("kind", "surge")}, {"then", surge}}}}};
  }
  return ordered_json::object();
}

ordered_json ObjectSchema(const ObjectType& type) {
  ordered_json o;
  o["title"] = type.name;
  o["description"] = type.description;
  o["type"] = "object";
  ordered_json properties = ordered_json::object();
  ordered_json required = ordered_json::array();
  for (const auto& field : type.fields) {
    properties[field.name] = Property(field);
    if (field.required) required.push_back(field.name);
  }
  o["properties"] = properties;
  if (!required.empty()) o["required"] = required;
  o["additionalProperties"] = false;
  o.update(Rules(type));
  return o;
}

}  // namespace

std::string GenerateJsonSchema() {
  const ObjectType& root_type = FormationPolicyType();
  ordered_json schema;
  schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  schema["title"] = "dynoherd FormationPolicy (" + std::string(kApiVersion) + ")";
  const ordered_json root = ObjectSchema(root_type);
  for (auto& [key, value] : root.items()) {
    if (key != "title") schema[key] = value;
  }
  ordered_json defs = ordered_json::object();
  for (const ObjectType* type : AllObjectTypes()) {
    if (type != &root_type) defs[type->name] = ObjectSchema(*type);
  }
  schema["$defs"] = defs;
  return schema.dump(2) + "\n";
}

}  // namespace dynoherd::spec
