// The one description of the FormationPolicy's YAML fields. The loader (spec/loader.h) reads
// documents by it and `dynoherd schema` (spec/schema.h) prints it as JSON Schema, so the two cannot
// drift apart. Defaults are read from the default-constructed structs of spec/policy.h: they are
// written only there. Rules that involve several fields live in the loader (and, where JSON Schema
// can say them, as if/then in spec/schema.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "spec/policy.h"

namespace dynoherd::spec {

// The struct a field is stored into. A variant rather than void* so a table mistake fails loudly.
using StructRef = std::variant<Policy*, FormationSpec*, LatencySpec*, LaggardSpec*, AutoscaleSpec*,
                               SimSpec*, SimFormationSpec*, SimIncidentSpec*>;

enum class FieldKind {
  kString,
  kInteger,
  kNumber,
  kBoolean,
  kDuration,        // "500ms", "90s", "5m", "1h", "1m30s"
  kEnum,            // one of `enum_values`, stored as the enum's value
  kCountOrPercent,  // an integer count or "N%"
  kObject,          // a mapping of `object`'s fields
  kList,            // a sequence of `object`s
  kStringList,      // a sequence of strings, each checked as a kString and appended by `store`
  kMap,             // a mapping from a name (matching `pattern`) to an `object`
  kStringMap,       // a mapping from a key (checked by `key_problem`) to a string (checked as a
                    // kString), stored by `store_entry`: metadata.labels, metadata.annotations
};

// A scalar after its checks, ready to store. Enums are carried as their underlying integer.
using FieldValue = std::variant<std::string, int64_t, double, bool, Duration, CountOrPercent>;

struct EnumValue {
  std::string name;  // the YAML spelling
  int64_t value;     // static_cast of the C++ enumerator
};

struct ObjectType;

struct Field {
  std::string name;  // the YAML key
  FieldKind kind = FieldKind::kString;
  bool required = false;
  std::string description;

  // Constraints; each applies only to the kinds named.
  std::optional<double> minimum;         // kInteger, kNumber, kCountOrPercent (the count)
  bool exclusive_minimum = false;        // minimum itself is not allowed
  std::optional<double> maximum;         // kInteger, kNumber, kCountOrPercent (the count)
  std::optional<Duration> min_duration;  // kDuration
  std::optional<Duration> max_duration;  // kDuration
  std::string pattern;       // kString, kStringList items and kMap keys: ECMAScript regex, ^...$
  std::string pattern_hint;  // what `pattern` means, for error messages
  int max_length = 0;        // kString; 0 = no limit
  int min_items = 0;         // kList, kStringList, kMap
  int max_items = 0;         // kList, kStringList, kMap; 0 = no limit
  std::vector<EnumValue> enum_values;  // kEnum
  bool expands_env = false;            // kString: ${VAR} is replaced from the environment
  bool secret = false;                 // kString: may hold credentials; never echoed in messages
  // kStringMap: what is wrong with a key ("" when nothing), and the same rule as an anchored
  // ECMAScript regex for the JSON Schema (a test checks they agree), with its longest key.
  std::string (*key_problem)(std::string_view key) = nullptr;
  std::string key_pattern;
  int key_max_length = 0;
  size_t max_total_bytes = 0;  // kStringMap: of every key and value together; 0 = no limit

  // The default, read from the default-constructed struct; nullopt when there is none.
  std::optional<FieldValue> default_value;
  // A sentence on what absence means when there is no plain default ("Default: latencyThreshold.").
  std::string default_note;

  const ObjectType* object = nullptr;  // kObject, kList, kMap

  // Scalar kinds: stores a checked value into the struct; kStringList: appends one item.
  std::function<void(StructRef, const FieldValue&)> store;
  // kStringMap: stores one checked entry.
  std::function<void(StructRef, const std::string& key, std::string value)> store_entry;
  // kObject: returns the nested struct (creating it). kList / kMap: appends a new element and
  // returns it; `key` is the map key (kMap) and empty otherwise.
  std::function<StructRef(StructRef, std::string_view key)> enter;

  bool IsScalar() const {
    return kind != FieldKind::kObject && kind != FieldKind::kList &&
           kind != FieldKind::kStringList && kind != FieldKind::kMap &&
           kind != FieldKind::kStringMap;
  }
  // The constraints in words ("Between 30s and 1h."), generated so they cannot disagree with
  // the checks; empty when there are none worth saying.
  std::string Constraints() const;
  // description, Constraints() and default_note: what the schema and docs show.
  std::string FullDescription() const;
  // The YAML spelling of an enum field's value; empty when `value` is not one of enum_values.
  std::string_view EnumName(int64_t value) const;
};

struct ObjectType {
  std::string name;  // a title ("Laggards"), also the JSON Schema $defs key
  std::string description;
  std::vector<Field> fields;  // in documentation order

  const Field* Find(std::string_view field_name) const;
  std::vector<std::string> FieldNames() const;
};

// The document root: apiVersion, kind, metadata, spec.
const ObjectType& FormationPolicyType();

// Every object type reachable from the root, each once, root first.
std::vector<const ObjectType*> AllObjectTypes();

// The duration syntax ParseDuration accepts, as an anchored ECMAScript regex (for JSON Schema).
std::string_view DurationPattern();

// A maxUnavailable percentage, "1%" to "100%", as an anchored ECMAScript regex.
std::string_view PercentPattern();

// Kubernetes' rules for metadata: a label or annotation key is a qualified name (an optional DNS
// subdomain prefix and '/', then a name of at most 63 characters: letters, digits, '-', '_', '.',
// starting and ending with a letter or digit); a label value is empty or such a name.
// What is wrong with `key` as a qualified name, or "" when nothing is.
std::string QualifiedNameProblem(std::string_view key);
std::string_view QualifiedNamePattern();
std::string_view LabelValuePattern();

// A number as people write it: "0", "1.5", "9007199254740991".
std::string FormatNumber(double value);

// A value as people write it in YAML: "5m", "25%", "p95", "2", "true".
std::string FormatFieldValue(const Field& field, const FieldValue& value);

inline constexpr std::string_view kApiVersion = "dynoherd/v1";
inline constexpr std::string_view kKind = "FormationPolicy";

}  // namespace dynoherd::spec
